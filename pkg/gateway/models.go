package gateway

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/openclaw/openclaw-go/pkg/openai"
)

// models serves GET /v1/models: the agent targets a client may name.
func (s *Server) models(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := s.endpointEnabled(r.URL.Path); err != nil {
		return err
	}
	if err := s.authorize(w, r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, openai.NewModelList(s.state.Load().cfg.AgentIDs()))
	return nil
}

// model serves GET /v1/models/{id}; the id may contain a slash, sent
// URL-escaped (openclaw%2Fdefault) or not.
func (s *Server) model(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.endpointEnabled(r.URL.Path); err != nil {
		return err
	}
	if err := s.authorize(w, r); err != nil {
		return err
	}
	id := strings.TrimPrefix(ps.ByName("id"), "/")
	if id == "" { // GET /v1/models/: a trailing slash, not a model
		return notFound(r)
	}
	if m, ok := openai.NewModelList(s.state.Load().cfg.AgentIDs()).Find(id); ok {
		writeJSON(w, http.StatusOK, m)
		return nil
	}
	// OpenAI's code, so SDKs recognise it.
	e := openai.NotFound("The model '" + id + "' does not exist")
	e.Code = "model_not_found"
	return e
}
