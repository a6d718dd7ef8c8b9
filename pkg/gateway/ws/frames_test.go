package ws

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		in      string
		id      string // the id an error can answer, or the request's
		method  string
		params  string
		wantErr string
	}{
		{`{"type":"req","id":"1","method":"health"}`, "1", "health", "", ""},
		{`{"type":"req","id":"1","method":"health","params":null}`, "1", "health", "", ""},
		{` {"method":"agent","params":{"message":"hi"},"id":"a b","type":"req"} `, "a b", "agent", `{"message":"hi"}`, ""},
		{`{"type":"req","id":"1","method":"x","params":[1]}`, "1", "x", `[1]`, ""},
		{``, "", "", "", "not a JSON object"},
		{`[]`, "", "", "", "not a JSON object"},
		{`null`, "", "", "", "not a JSON object"},
		{`"req"`, "", "", "", "not a JSON object"},
		{`{"type":"req","id":"1","method":"x"}{}`, "", "", "", "trailing data after the JSON object"},
		{`{"type":"req","id":"1","method":"x"`, "", "", "", "not a JSON object"},
		{`{"id":"1","method":"x"}`, "1", "", "", `missing "type"`},
		{`{"type":"res","id":"1","method":"x"}`, "1", "", "", `type must be "req", not "res"`},
		{`{"type":1,"id":"1","method":"x"}`, "1", "", "", `"type" must be a string`},
		{`{"type":"req","method":"x"}`, "", "", "", `missing "id"`},
		{`{"type":"req","id":7,"method":"x"}`, "", "", "", `"id" must be a string`},
		{`{"type":"req","id":"","method":"x"}`, "", "", "", `"id" must not be empty`},
		{`{"type":"req","id":"` + strings.Repeat("i", 257) + `","method":"x"}`, "", "", "", `"id" is longer than 256 bytes`},
		{`{"type":"req","id":"1"}`, "1", "", "", `missing "method"`},
		{`{"type":"req","id":"1","method":""}`, "1", "", "", `"method" must not be empty`},
		{`{"type":"req","id":"1","method":"x","seq":1}`, "1", "x", "", `unexpected field "seq"`},
	}
	for _, tt := range tests {
		req, err := DecodeRequest([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || err.Error() != "invalid request frame: "+tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.wantErr)
			}
			if got := ""; req != nil {
				got = req.ID
				if got != tt.id {
					t.Errorf("%s: id %q, want %q", tt.in, got, tt.id)
				}
			}
			continue
		}
		if err != nil || req.Type != TypeReq || req.ID != tt.id || req.Method != tt.method || string(req.Params) != tt.params {
			t.Errorf("%s: got %+v %v", tt.in, req, err)
		}
	}
}

func TestDecodeConnect(t *testing.T) {
	client := `"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}`
	tests := []struct {
		in      string
		want    ConnectParams
		wantErr string
	}{
		{`{"minProtocol":3,"maxProtocol":3,` + client + `,"auth":{"token":"t"}}`,
			ConnectParams{3, 3, ClientInfo{ID: "cli", Version: "1", Platform: "linux", Mode: "cli"}, ConnectAuth{Token: "t"}}, ""},
		{`{"minProtocol":1,"maxProtocol":9,` + client + `,"role":"operator","scopes":["operator.read"],"caps":[],"locale":"en","auth":null}`,
			ConnectParams{1, 9, ClientInfo{ID: "cli", Version: "1", Platform: "linux", Mode: "cli"}, ConnectAuth{}}, ""},
		{`{"minProtocol":3,"maxProtocol":3,` + client + `,"auth":{"password":"p","deviceToken":"d"}}`,
			ConnectParams{3, 3, ClientInfo{ID: "cli", Version: "1", Platform: "linux", Mode: "cli"}, ConnectAuth{Password: "p"}}, ""},
		{``, ConnectParams{}, "params are required"},
		{`[]`, ConnectParams{}, "params must be an object"},
		{`{"maxProtocol":3,` + client + `}`, ConnectParams{}, "minProtocol is required"},
		{`{"minProtocol":3,` + client + `}`, ConnectParams{}, "maxProtocol is required"},
		{`{"minProtocol":0,"maxProtocol":3,` + client + `}`, ConnectParams{}, "minProtocol and maxProtocol must be at least 1"},
		{`{"minProtocol":"3","maxProtocol":3,` + client + `}`, ConnectParams{}, "minProtocol must be an integer"},
		{`{"minProtocol":3,"maxProtocol":3}`, ConnectParams{}, "client is required"},
		{`{"minProtocol":3,"maxProtocol":3,"client":{"id":"a","version":"1","platform":" ","mode":"m"}}`, ConnectParams{}, "client.platform is required"},
		{`{"minProtocol":3,"maxProtocol":3,` + client + `,"auth":{"secret":"x"}}`, ConnectParams{}, `auth: unknown field "secret"`},
		{`{"minProtocol":3,"maxProtocol":3,` + client + `,"auth":{"token":5}}`, ConnectParams{}, "auth: token must be a string"},
	}
	for _, tt := range tests {
		got, err := decodeConnect(json.RawMessage(tt.in))
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || *got != tt.want {
			t.Errorf("%s: got %+v %v", tt.in, got, err)
		}
	}
}

func TestDecodeParams(t *testing.T) {
	var p AgentParams
	for in, want := range map[string]string{
		``:                                  "",
		`null`:                              "params must be an object",
		`{"message":"hi","timeout":5}`:      "",
		`{"message":1}`:                     "message must be a string",
		`{"message":"hi","timeout":1.5}`:    "timeout must be an integer",
		`{"message":"hi","extra":true}`:     `unknown field "extra"`,
		`{"message":"hi"} trailing`:         "",
		`{"message":"hi","agentId":["a"]}`:  "agentId must be a string",
		`{"message":"hi","timeout":null}`:   "",
		`{"message":"hi","sessionKey":{}} `: "sessionKey must be a string",
	} {
		err := DecodeParams(json.RawMessage(in), &p)
		if got := ""; err != nil {
			got = err.Error()
			if got != want {
				t.Errorf("%s: %q, want %q", in, got, want)
			}
		} else if want != "" {
			t.Errorf("%s: no error, want %q", in, want)
		}
	}
}

// FuzzDecodeRequest feeds arbitrary frames to the decoders a client reaches
// before and after auth: they must never panic, and an accepted frame must
// satisfy the protocol's rules and survive a round trip.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"req","id":"1","method":"connect","params":{"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"auth":{"token":"t"}}}`,
		`{"type":"req","id":"2","method":"agent","params":{"message":"hi","idempotencyKey":"k","timeout":5}}`,
		`{"type":"req","id":"3","method":"agent.abort","params":{"runId":"r"}}`,
		`{"type":"req","id":"4","method":"chat.history","params":{"sessionKey":"main","limit":2}}`,
		`{"type":"res","id":"5","ok":true}`,
		`{"type":"event","event":"tick","payload":{"ts":1},"seq":3}`,
		`{"type":"req","id":"\u00e9","method":"x","params":null}`,
		`{"type":"req","id":"1","method":"x","params":{"a":[1,2,{"b":null}]}}`,
		`{"type":"req","id":"1","id":"2","method":"x"}`,
		`{"type":"req"`, `[]`, `null`, `1e999`, "\xff", ``, `{"type":"req","id":"1","method":"x"}{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid request frame: ") {
				t.Fatalf("error %q", err)
			}
			if req != nil && len(req.ID) > maxIDLen && strings.Contains(err.Error(), "longer") {
				t.Fatalf("kept an overlong id")
			}
			return
		}
		if req.Type != TypeReq || req.ID == "" || len(req.ID) > maxIDLen || req.Method == "" || len(req.Method) > maxMethodLen {
			t.Fatalf("accepted %+v", req)
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeRequest(b)
		if err != nil || again.ID != req.ID || again.Method != req.Method {
			t.Fatalf("round trip: %+v %v", again, err)
		}
		// The params decoders must not panic either.
		if req.Method == "connect" {
			decodeConnect(req.Params)
		}
		var p AgentParams
		DecodeParams(req.Params, &p)
	})
}
