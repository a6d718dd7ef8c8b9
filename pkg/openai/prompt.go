package openai

import (
	"fmt"
	"strings"
)

// History markers of a flattened prompt.
const (
	HistoryMarker = "[Chat messages since your last reply - for context]"
	CurrentMarker = "[Current message - respond to this]"
)

// Prompt is a message list flattened into one agent turn.
type Prompt struct {
	// Text is the turn's text: the current message alone, or the history
	// block ending with it. Empty when the current message has neither text
	// nor images.
	Text string
	// ExtraSystem is the system and developer texts, joined with "\n\n".
	ExtraSystem string
	// ImageParts are the image URLs of the current message when it is a
	// user message, as sent (see DecodeImages).
	ImageParts []string
	// Current is the index in the messages of the current turn, -1 when
	// there is none.
	Current int
}

// Empty reports that there is nothing to answer: the caller's last check
// before the run answers it with MissingUserMessage().
func (p Prompt) Empty() bool { return p.Text == "" && len(p.ImageParts) == 0 }

// BuildPrompt flattens msgs per the contract. System and developer texts go
// to ExtraSystem (wherever they stand). The current turn is the last user or
// tool (or function) message; with neither, the last other message, so an
// assistant-only list is answered. Messages after it are dropped. Earlier
// turns with text become the history block, one "<Label>: <text>" line
// each, labels User, Assistant, Tool or Tool:<name>; turns without text
// (an assistant's bare tool calls, an old image-only turn) are left out.
// With no history the text is the current message's alone. A current user
// turn with images and no text reads ImageOnlyText. The only error is a
// role DecodeChatRequest would have refused.
func BuildPrompt(msgs []Message) (Prompt, *Error) {
	p := Prompt{Current: -1}
	var sys []string
	last := -1
	for i := range msgs {
		switch msgs[i].Role {
		case RoleSystem, RoleDeveloper:
			if t := msgs[i].Text(); t != "" {
				sys = append(sys, t)
			}
			continue
		case RoleUser, RoleTool, RoleFunction:
			p.Current = i
		case RoleAssistant:
		default:
			path := fmt.Sprintf("messages[%d].role", i)
			return Prompt{Current: -1}, InvalidRequest(fmt.Sprintf("%s: unknown role %q; use system, developer, user, assistant, tool or function", path, msgs[i].Role), path)
		}
		last = i
	}
	p.ExtraSystem = strings.Join(sys, "\n\n")
	if p.Current < 0 {
		p.Current = last
	}
	if p.Current < 0 {
		return p, nil
	}
	cur := &msgs[p.Current]
	text := cur.Text()
	if cur.Role == RoleUser {
		p.ImageParts = cur.ImageURLs()
		if text == "" && len(p.ImageParts) > 0 {
			text = ImageOnlyText
		}
	}
	if text == "" {
		return p, nil
	}

	var b strings.Builder
	for i := 0; i < p.Current; i++ {
		m := &msgs[i]
		if m.Role == RoleSystem || m.Role == RoleDeveloper {
			continue
		}
		t := m.Text()
		if t == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(HistoryMarker)
		}
		b.WriteByte('\n')
		writeLabel(&b, m)
		b.WriteString(": ")
		b.WriteString(t)
	}
	if b.Len() == 0 {
		p.Text = text
		return p, nil
	}
	b.WriteString("\n\n")
	b.WriteString(CurrentMarker)
	b.WriteByte('\n')
	writeLabel(&b, cur)
	b.WriteString(": ")
	b.WriteString(text)
	p.Text = b.String()
	return p, nil
}

func writeLabel(b *strings.Builder, m *Message) {
	switch m.Role {
	case RoleUser:
		b.WriteString("User")
	case RoleAssistant:
		b.WriteString("Assistant")
	default: // tool, function
		b.WriteString("Tool")
		if n := strings.TrimSpace(m.Name); n != "" {
			b.WriteByte(':')
			b.WriteString(n)
		}
	}
}
