package openai

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

var (
	pngBytes  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpegBytes = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
	gifBytes  = []byte("GIF89a\x01\x00\x01\x00")
	webpBytes = []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
)

func dataURL(mime string, b []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func TestDecodeImages(t *testing.T) {
	lim := ImageLimits{MaxParts: 3, MaxTotalBytes: 64}
	b64 := base64.StdEncoding.EncodeToString(pngBytes)
	tests := []struct {
		name string
		urls []string
		lim  ImageLimits
		want []provider.Image
		err  string // exact message; "" for success
	}{
		{"none", nil, lim, nil, ""},
		{"png", []string{dataURL("image/png", pngBytes)}, lim, []provider.Image{{MIME: "image/png", Data: pngBytes}}, ""},
		{"all sniffable types", []string{dataURL("image/jpeg", jpegBytes), dataURL("image/gif", gifBytes), dataURL("image/webp", webpBytes)}, lim,
			[]provider.Image{{MIME: "image/jpeg", Data: jpegBytes}, {MIME: "image/gif", Data: gifBytes}, {MIME: "image/webp", Data: webpBytes}}, ""},
		{"heic kept as declared", []string{dataURL("image/heic", []byte("....ftypheic"))}, lim, []provider.Image{{MIME: "image/heic", Data: []byte("....ftypheic")}}, ""},
		{"heif", []string{dataURL("image/heif", []byte("x"))}, lim, []provider.Image{{MIME: "image/heif", Data: []byte("x")}}, ""},
		{"jpg alias", []string{dataURL("image/jpg", jpegBytes)}, lim, []provider.Image{{MIME: "image/jpeg", Data: jpegBytes}}, ""},
		{"mime case and params", []string{"DATA:Image/PNG;name=a.png;BASE64," + b64}, lim, []provider.Image{{MIME: "image/png", Data: pngBytes}}, ""},
		{"mime corrected by magic", []string{dataURL("image/jpeg", pngBytes)}, lim, []provider.Image{{MIME: "image/png", Data: pngBytes}}, ""},
		{"unpadded base64", []string{"data:image/png;base64," + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("abcd")), "=")}, lim, []provider.Image{{MIME: "image/png", Data: []byte("abcd")}}, ""},
		{"wrapped base64", []string{"data:image/png;base64," + b64[:8] + "\r\n" + b64[8:]}, lim, []provider.Image{{MIME: "image/png", Data: pngBytes}}, ""},
		{"exactly the byte limit", []string{dataURL("image/png", bytes.Repeat([]byte{1}, 32)), dataURL("image/png", bytes.Repeat([]byte{2}, 32))}, lim,
			[]provider.Image{{MIME: "image/png", Data: bytes.Repeat([]byte{1}, 32)}, {MIME: "image/png", Data: bytes.Repeat([]byte{2}, 32)}}, ""},
		{"exactly the part limit", []string{dataURL("image/gif", gifBytes), dataURL("image/gif", gifBytes), dataURL("image/gif", gifBytes)}, lim,
			[]provider.Image{{MIME: "image/gif", Data: gifBytes}, {MIME: "image/gif", Data: gifBytes}, {MIME: "image/gif", Data: gifBytes}}, ""},

		{"too many", []string{"a", "b", "c", "d"}, lim, nil,
			"too many images: 4 image_url parts, the limit is 3 (gateway.http.endpoints.chatCompletions.maxImageParts)"},
		{"zero limits allow none", []string{dataURL("image/png", pngBytes)}, ImageLimits{}, nil,
			"too many images: 1 image_url parts, the limit is 0 (gateway.http.endpoints.chatCompletions.maxImageParts)"},
		{"one byte over", []string{dataURL("image/png", bytes.Repeat([]byte{1}, 32)), dataURL("image/png", bytes.Repeat([]byte{2}, 33))}, lim, nil,
			"images too large: 65 bytes in total, the limit is 64 (gateway.http.endpoints.chatCompletions.maxTotalImageBytes)"},
		{"remote refused", []string{"https://example.com/cat.png"}, lim, nil,
			"image 1: remote image URLs are not allowed; send the image inline as data:<mime>;base64,<data>"},
		{"remote http refused", []string{dataURL("image/png", pngBytes), "HTTP://example.com/cat.png"}, lim, nil,
			"image 2: remote image URLs are not allowed; send the image inline as data:<mime>;base64,<data>"},
		{"remote allowed but unsupported", []string{"https://example.com/cat.png"}, ImageLimits{MaxParts: 1, MaxTotalBytes: 1, AllowURL: true}, nil,
			"image 1: remote image URLs are not supported yet; send the image inline as data:<mime>;base64,<data>"},
		{"other scheme", []string{"file:///etc/passwd"}, lim, nil,
			"image 1: unsupported image URL; send the image inline as data:<mime>;base64,<data>"},
		{"empty url", []string{""}, lim, nil,
			"image 1: empty image URL; send the image inline as data:<mime>;base64,<data>"},
		{"no comma", []string{"data:image/png;base64"}, lim, nil,
			"image 1: data URL has no comma; send the image inline as data:<mime>;base64,<data>"},
		{"not base64", []string{"data:image/png,rawbytes"}, lim, nil,
			"image 1: data URL must be base64-encoded; send the image inline as data:<mime>;base64,<data>"},
		{"bad mime", []string{dataURL("image/bmp", []byte("BM"))}, lim, nil,
			`image 1: unsupported image type "image/bmp"; use image/jpeg, image/png, image/gif, image/webp, image/heic or image/heif`},
		{"no mime", []string{"data:;base64,AAAA"}, lim, nil,
			`image 1: unsupported image type ""; use image/jpeg, image/png, image/gif, image/webp, image/heic or image/heif`},
		{"svg refused", []string{dataURL("image/svg+xml", []byte("<svg/>"))}, lim, nil,
			`image 1: unsupported image type "image/svg+xml"; use image/jpeg, image/png, image/gif, image/webp, image/heic or image/heif`},
		{"no data", []string{"data:image/png;base64,"}, lim, nil,
			"image 1: data URL has no data; send the image inline as data:<mime>;base64,<data>"},
		{"broken base64", []string{"data:image/png;base64,@@@@"}, lim, nil,
			"image 1: invalid base64 data; send the image inline as data:<mime>;base64,<data>"},
		{"broken padding", []string{"data:image/png;base64,A==="}, lim, nil,
			"image 1: invalid base64 data; send the image inline as data:<mime>;base64,<data>"},
		{"url-safe alphabet refused", []string{"data:image/png;base64,-_-_"}, lim, nil,
			"image 1: invalid base64 data; send the image inline as data:<mime>;base64,<data>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeImages(tt.urls, tt.lim)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("DecodeImages = %v, want error %q", got, tt.err)
				}
				if err.Message != tt.err || err.Status != 400 || err.Type != TypeInvalidRequest || err.Param != "messages" {
					t.Fatalf("error %+v\nwant message %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeImages: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// A huge image is refused from its length, before it is decoded.
func TestDecodeImagesRefusesBeforeDecoding(t *testing.T) {
	big := "data:image/png;base64," + strings.Repeat("A", 4<<20)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := DecodeImages([]string{big}, ImageLimits{MaxParts: 1, MaxTotalBytes: 1 << 20}); err == nil {
			t.Fatal("no error")
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations to refuse an oversized image", allocs)
	}
}
