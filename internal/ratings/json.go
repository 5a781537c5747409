package ratings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// SyntaxError is a body that is not the JSON the API takes.
type SyntaxError struct {
	Message string
}

func (e *SyntaxError) Error() string { return e.Message }

// TooManyError is a batch over the limit.
type TooManyError struct {
	N, Max int
}

func (e *TooManyError) Error() string {
	return fmt.Sprintf("The batch has %d ratings; send at most %d per request (split it into several requests).", e.N, e.Max)
}

// jsonRating is one rating as the API takes it. Values are kept raw so
// that a number may come as a string and an id as a number, as helpdesks
// send them; unknown fields are ignored.
type jsonRating struct {
	Source     json.RawMessage `json:"source"`
	ExternalID json.RawMessage `json:"external_id"`
	ID         json.RawMessage `json:"id"`
	OccurredAt json.RawMessage `json:"occurred_at"`
	Metric     json.RawMessage `json:"metric"`
	Score      json.RawMessage `json:"score"`
	UnitPath   json.RawMessage `json:"unit_path"`
	UnitID     json.RawMessage `json:"unit_id"`
	AgentEmail json.RawMessage `json:"agent_email"`
	Comment    json.RawMessage `json:"comment"`
}

// ParseJSON reads an API body: one rating object, an array of them, or an
// object {"ratings": [...]} whose "source" and "metric", when given, are
// the defaults of its ratings. A body that is not such JSON is a
// *SyntaxError (with the line and column of the fault); more than max
// ratings a *TooManyError. Values of the wrong type are problems of their
// rating, reported when the Input is added to a Batch.
func ParseJSON(data []byte, max int) ([]Input, error) {
	// A byte order mark is skipped, as in CSV files (Windows tools such as
	// PowerShell send one). Offsets in body are lead bytes short of their
	// place in data.
	text := bytes.TrimPrefix(data, []byte("\uFEFF"))
	body := bytes.TrimSpace(text)
	lead := len(data) - len(bytes.TrimLeftFunc(text, unicode.IsSpace))
	if len(body) == 0 {
		return nil, &SyntaxError{"The body is empty: send a rating as a JSON object, or several as an array."}
	}
	var top json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, jsonSyntax(data, lead, err)
	}
	var elems []json.RawMessage
	var defSource, defMetric string
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &elems); err != nil {
			return nil, jsonSyntax(data, lead, err)
		}
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, jsonSyntax(data, lead, err)
		}
		list, ok := obj["ratings"]
		if !ok {
			elems = []json.RawMessage{body}
			break
		}
		if err := json.Unmarshal(list, &elems); err != nil || bytes.TrimSpace(list)[0] != '[' {
			return nil, &SyntaxError{`"ratings" must be an array of rating objects.`}
		}
		var msg string
		if defSource, msg = jsonText(obj["source"]); msg != "" {
			return nil, &SyntaxError{`The top-level "source" ` + msg + "."}
		}
		if defMetric, msg = jsonText(obj["metric"]); msg != "" {
			return nil, &SyntaxError{`The top-level "metric" ` + msg + "."}
		}
	default:
		return nil, &SyntaxError{"The body must be a JSON object (one rating, or {\"ratings\": [...]}) or an array of ratings."}
	}
	if len(elems) == 0 {
		return nil, &SyntaxError{"The batch is empty: send at least one rating."}
	}
	if max > 0 && len(elems) > max {
		return nil, &TooManyError{N: len(elems), Max: max}
	}
	out := make([]Input, len(elems))
	for i, raw := range elems {
		in := &out[i]
		in.Index = i
		in.Source, in.Metric = defSource, defMetric
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			in.problems = append(in.problems, RowError{Message: "each rating must be a JSON object"})
			in.broken = true
			continue
		}
		var r jsonRating
		if err := json.Unmarshal(raw, &r); err != nil {
			in.problems = append(in.problems, RowError{Message: err.Error()})
			in.broken = true
			continue
		}
		set := func(dst *string, raw json.RawMessage, field string) {
			v, msg := jsonText(raw)
			if msg != "" {
				in.problems = append(in.problems, RowError{Field: field, Value: string(raw), Message: field + " " + msg})
				in.broken = true
				return
			}
			if len(raw) > 0 && v != "" || *dst == "" {
				*dst = v
			}
		}
		set(&in.Source, r.Source, FieldSource)
		set(&in.ExternalID, r.ExternalID, FieldExternalID)
		if in.ExternalID == "" {
			set(&in.ExternalID, r.ID, "id")
		}
		set(&in.OccurredAt, r.OccurredAt, FieldOccurredAt)
		set(&in.Metric, r.Metric, FieldMetric)
		set(&in.Score, r.Score, FieldScore)
		set(&in.UnitPath, r.UnitPath, FieldUnitPath)
		set(&in.UnitID, r.UnitID, FieldUnitID)
		set(&in.AgentEmail, r.AgentEmail, FieldAgentEmail)
		set(&in.Comment, r.Comment, FieldComment)
	}
	return out, nil
}

// jsonText returns a string's text or a number's digits; "" for null or
// absent; a problem for anything else.
func jsonText(raw json.RawMessage) (string, string) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", ""
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", "is not a valid string"
		}
		return s, ""
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(t), ""
	case 't', 'f':
		return "", "must be a string or a number, not true or false"
	case '{':
		return "", "must be a string or a number, not an object"
	case '[':
		return "", "must be a string or a number, not an array"
	}
	return "", "must be a string or a number"
}

// jsonSyntax describes a JSON syntax error with its line and column in
// data; the error's offset counts from data[lead:].
func jsonSyntax(data []byte, lead int, err error) *SyntaxError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end"):
		return &SyntaxError{"The body is not valid JSON: it ends too early (a closing bracket or brace is missing, or the upload was cut off)."}
	case errors.As(err, &se):
		// The offset is just past the character at fault: byte off
		// (counting from 1) is that character.
		off := se.Offset + int64(lead)
		line, col := position(data, off-1)
		return &SyntaxError{fmt.Sprintf("The body is not valid JSON: %s (line %d, column %d, byte %d).", se.Error(), line, col, off)}
	case errors.As(err, &te):
		line, col := position(data, te.Offset+int64(lead)-1)
		return &SyntaxError{fmt.Sprintf("The body is not the JSON expected: found a %s where a rating object or an array was expected (line %d, column %d).", te.Value, line, col)}
	}
	return &SyntaxError{"The body is not valid JSON: " + err.Error() + "."}
}

// position returns the 1-based line and column of the byte at offset off.
func position(data []byte, off int64) (int, int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
