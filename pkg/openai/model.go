package openai

import "strings"

// ParseAgentModel reads the agent a request's `model` names. "", "openclaw"
// and "openclaw/default" name the default agent (isDefault); "openclaw:<id>",
// "openclaw/<id>" and "agent:<id>" (prefixes case-insensitive, surrounding
// space ignored) name agent <id>, lowercased; an id of "default" is the
// default agent too. An id is 1-64 letters, digits, '_' or '-' starting with
// a letter or digit. Anything else is not ok: the caller answers
// InvalidModel().
func ParseAgentModel(model string) (agentID string, isDefault bool, ok bool) {
	m := strings.TrimSpace(model)
	if m == "" || strings.EqualFold(m, DefaultModel) {
		return "", true, true
	}
	var id string
	switch {
	case hasPrefixFold(m, "openclaw:"), hasPrefixFold(m, "openclaw/"):
		id = m[len("openclaw:"):]
	case hasPrefixFold(m, "agent:"):
		id = m[len("agent:"):]
	default:
		return "", false, false
	}
	if !validAgentID(id) {
		return "", false, false
	}
	id = strings.ToLower(id)
	if id == "default" {
		return "", true, true
	}
	return id, false, true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func validAgentID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
