package openresponses

import (
	"encoding/json"
	"strconv"
)

// Event types of a stream, in the order a response emits them.
const (
	EventCreated          = "response.created"
	EventInProgress       = "response.in_progress"
	EventOutputItemAdded  = "response.output_item.added"
	EventContentPartAdded = "response.content_part.added"
	EventOutputTextDelta  = "response.output_text.delta"
	EventOutputTextDone   = "response.output_text.done"
	EventContentPartDone  = "response.content_part.done"
	EventArgumentsDelta   = "response.function_call_arguments.delta"
	EventArgumentsDone    = "response.function_call_arguments.done"
	EventOutputItemDone   = "response.output_item.done"
	EventCompleted        = "response.completed"
	EventIncomplete       = "response.incomplete"
	EventFailed           = "response.failed"
)

// contentIndex is the index of a message's one output_text part.
const contentIndex = 0

// Stream encodes the events of one streamed response as server-sent
// events: "event: <type>\ndata: <json>\n\n", the JSON starting with "type"
// and a "sequence_number" that counts from 0 over the stream. Its methods
// append to dst and return it, so the caller can reuse one buffer. A Stream
// is not safe for concurrent use.
type Stream struct {
	seq int
}

// event appends one event; body is a JSON object with the event's own
// fields, spliced in after type and sequence_number.
func (s *Stream) event(dst []byte, typ string, body []byte) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	dst = append(dst, "\ndata: {\"type\":\""...)
	dst = append(dst, typ...)
	dst = append(dst, `","sequence_number":`...)
	dst = strconv.AppendInt(dst, int64(s.seq), 10)
	s.seq++
	if len(body) > 2 {
		dst = append(dst, ',')
		dst = append(dst, body[1:]...)
	} else {
		dst = append(dst, '}')
	}
	return append(dst, "\n\n"...)
}

func (s *Stream) marshal(dst []byte, typ string, body any) []byte {
	b, err := json.Marshal(body)
	if err != nil { // only plain strings, numbers and our own types get here
		b = nil
	}
	return s.event(dst, typ, b)
}

type responseBody struct {
	Response *Response `json:"response"`
}

type itemBody struct {
	OutputIndex int        `json:"output_index"`
	Item        OutputItem `json:"item"`
}

type partBody struct {
	ItemID       string     `json:"item_id"`
	OutputIndex  int        `json:"output_index"`
	ContentIndex int        `json:"content_index"`
	Part         OutputText `json:"part"`
}

// Created appends response.created with the in-progress response.
func (s *Stream) Created(dst []byte, r *Response) []byte {
	return s.marshal(dst, EventCreated, responseBody{r})
}

// InProgress appends response.in_progress with the in-progress response.
func (s *Stream) InProgress(dst []byte, r *Response) []byte {
	return s.marshal(dst, EventInProgress, responseBody{r})
}

// ItemAdded appends response.output_item.added.
func (s *Stream) ItemAdded(dst []byte, outputIndex int, it OutputItem) []byte {
	return s.marshal(dst, EventOutputItemAdded, itemBody{outputIndex, it})
}

// ItemDone appends response.output_item.done.
func (s *Stream) ItemDone(dst []byte, outputIndex int, it OutputItem) []byte {
	return s.marshal(dst, EventOutputItemDone, itemBody{outputIndex, it})
}

// PartAdded appends response.content_part.added with an empty
// output_text part.
func (s *Stream) PartAdded(dst []byte, itemID string, outputIndex int) []byte {
	return s.marshal(dst, EventContentPartAdded, partBody{itemID, outputIndex, contentIndex, NewOutputText("")})
}

// PartDone appends response.content_part.done with the whole text.
func (s *Stream) PartDone(dst []byte, itemID string, outputIndex int, text string) []byte {
	return s.marshal(dst, EventContentPartDone, partBody{itemID, outputIndex, contentIndex, NewOutputText(text)})
}

// TextDelta appends response.output_text.delta for one model delta, as it
// came.
func (s *Stream) TextDelta(dst []byte, itemID string, outputIndex int, delta string) []byte {
	return s.marshal(dst, EventOutputTextDelta, struct {
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Delta        string `json:"delta"`
	}{itemID, outputIndex, contentIndex, delta})
}

// TextDone appends response.output_text.done with the whole text.
func (s *Stream) TextDone(dst []byte, itemID string, outputIndex int, text string) []byte {
	return s.marshal(dst, EventOutputTextDone, struct {
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Text         string `json:"text"`
	}{itemID, outputIndex, contentIndex, text})
}

// ArgumentsDelta appends response.function_call_arguments.delta.
func (s *Stream) ArgumentsDelta(dst []byte, itemID string, outputIndex int, delta string) []byte {
	return s.marshal(dst, EventArgumentsDelta, struct {
		ItemID      string `json:"item_id"`
		OutputIndex int    `json:"output_index"`
		Delta       string `json:"delta"`
	}{itemID, outputIndex, delta})
}

// ArgumentsDone appends response.function_call_arguments.done.
func (s *Stream) ArgumentsDone(dst []byte, itemID string, outputIndex int, args string) []byte {
	return s.marshal(dst, EventArgumentsDone, struct {
		ItemID      string `json:"item_id"`
		OutputIndex int    `json:"output_index"`
		Arguments   string `json:"arguments"`
	}{itemID, outputIndex, args})
}

// Finished appends the event that ends a response, named after its status:
// response.completed, response.incomplete or response.failed.
func (s *Stream) Finished(dst []byte, r *Response) []byte {
	typ := EventCompleted
	switch r.Status {
	case StatusIncomplete:
		typ = EventIncomplete
	case StatusFailed:
		typ = EventFailed
	}
	return s.marshal(dst, typ, responseBody{r})
}

// AppendDone appends the data-only event that ends every stream.
func AppendDone(dst []byte) []byte {
	return append(dst, "data: [DONE]\n\n"...)
}
