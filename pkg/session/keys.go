// Package session stores agent conversations: session keys, the per-agent
// sessions.json index, one JSONL transcript per session, and the locking that
// lets the CLI and a running gateway write the same session safely.
//
// Layout under the state dir:
//
//	agents/<agentId>/sessions/sessions.json       session key -> Entry
//	agents/<agentId>/sessions/<sessionId>.jsonl   one Record per line
//	agents/<agentId>/sessions/<key-hash>.lock     serialises runs on one key
//	agents/<agentId>/sessions/sessions.json.lock  guards index updates
//	agents/<agentId>/sessions/sessions.json.spare the index before the last
//	                                              write, whose file the next
//	                                              write reuses
//
// Crash safety: an Append is one write of whole lines to a file opened for
// appending; every line of a multi-record Append but the last carries
// "more":true, so readers can tell an Append that a crash cut short and skip
// it, and the next writer cuts it off before appending. sessions.json is
// only ever replaced by rename, under the index lock; this package reads it
// under the shared index lock, because a write reuses the inode of the
// index it replaced (see replaceIndex).
package session

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// keyPrefix starts every full session key: agent:<agentId>:<rest>.
const keyPrefix = "agent:"

// reservedNamespaces are key namespaces callers may not pick: they belong to
// runs the gateway starts itself.
var reservedNamespaces = []string{"subagent:", "cron:"}

// ErrReservedKey is returned (wrapped) by ScopedKey for a key in a reserved
// namespace.
var ErrReservedKey = errors.New("reserved session key namespace")

// ErrEmptyKey is returned (wrapped) by ScopedKey for an empty key.
var ErrEmptyKey = errors.New("empty session key")

// MainKey is the agent's default session: agent:<agentId>:<mainKey>.
// Consecutive one-shot runs use it so they continue one conversation. An
// empty mainKey means "main".
func MainKey(agentID, mainKey string) string {
	if mainKey == "" {
		mainKey = "main"
	}
	return keyPrefix + normAgent(agentID) + ":" + mainKey
}

// ExplicitKey is the key of a session the caller named by id:
// agent:<agentId>:explicit:<sessionId>.
func ExplicitKey(agentID, sessionID string) string {
	return keyPrefix + normAgent(agentID) + ":explicit:" + sessionID
}

// MaxKeyBytes bounds a caller-supplied session key: keys are stored in the
// sessions index and kept in memory.
const MaxKeyBytes = 512

// ScopedKey turns a caller-supplied key (an HTTP header, a CLI flag) into a
// full key. A full agent:<id>:<rest> key is kept (the id lowercased); any
// other value is scoped to agentID as agent:<agentId>:<value>. Empty values
// and the reserved namespaces subagent: and cron: are refused.
func ScopedKey(agentID, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%w: give a non-empty session key", ErrEmptyKey)
	}
	if len(raw) > MaxKeyBytes {
		return "", fmt.Errorf("session key too long: at most %d bytes, received %d", MaxKeyBytes, len(raw))
	}
	if id, rest, ok := ParseKey(raw); ok {
		if err := checkReserved(rest); err != nil {
			return "", err
		}
		return keyPrefix + id + ":" + rest, nil
	}
	if err := checkReserved(raw); err != nil {
		return "", err
	}
	return keyPrefix + normAgent(agentID) + ":" + raw, nil
}

// ErrOtherAgent is returned (wrapped) by KeyForAgent for a full key that
// names another agent than the one the request runs.
var ErrOtherAgent = errors.New("session key belongs to another agent")

// KeyForAgent is ScopedKey for a run of agentID: a full key must name that
// agent, since a session's transcript lives under its agent.
func KeyForAgent(agentID, raw string) (string, error) {
	key, err := ScopedKey(agentID, raw)
	if err != nil {
		return "", err
	}
	if id, _, _ := ParseKey(key); id != normAgent(agentID) {
		return "", fmt.Errorf("%w: %q is a session of agent %q, not %q; send the key without its agent:%s: prefix, or choose agent %q",
			ErrOtherAgent, key, id, normAgent(agentID), id, id)
	}
	return key, nil
}

func checkReserved(rest string) error {
	for _, ns := range reservedNamespaces {
		if len(rest) >= len(ns) && strings.EqualFold(rest[:len(ns)], ns) {
			return fmt.Errorf("%w: session key namespace %q is reserved; choose a key that does not start with it",
				ErrReservedKey, ns)
		}
	}
	return nil
}

// UserKey is the stable session of a named end user:
// agent:<agentId>:<ns>-user:<user lowercased>. The gateway uses ns "openai"
// for the OpenAI `user` field.
func UserKey(agentID, ns, user string) string {
	return keyPrefix + normAgent(agentID) + ":" + ns + "-user:" + strings.ToLower(user)
}

// RandomKey is a fresh one-off session: agent:<agentId>:<ns>:<uuid>. The
// gateway uses it for stateless requests.
func RandomKey(agentID, ns string) string {
	return keyPrefix + normAgent(agentID) + ":" + ns + ":" + uuid.NewString()
}

// ParseKey splits a full key agent:<agentId>:<rest>. The agent id is
// returned lowercased; ok is false when key does not have that shape (the
// "agent" prefix is matched case-insensitively, id and rest must be
// non-empty).
func ParseKey(key string) (agentID, rest string, ok bool) {
	if len(key) < len(keyPrefix) || !strings.EqualFold(key[:len(keyPrefix)], keyPrefix) {
		return "", "", false
	}
	id, rest, found := strings.Cut(key[len(keyPrefix):], ":")
	if !found || strings.TrimSpace(id) == "" || rest == "" {
		return "", "", false
	}
	return strings.ToLower(id), rest, true
}

func normAgent(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

var agentIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidAgentID reports whether id (already lowercased) can name an agent's
// directory: 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit.
func ValidAgentID(id string) bool { return agentIDRe.MatchString(id) }

var sessionIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidSessionID reports whether id is safe as a transcript file name: 1-128
// of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit. UUIDs
// qualify.
func ValidSessionID(id string) bool { return sessionIDRe.MatchString(id) }
