package schedule

import (
	"encoding/json"

	"github.com/tandem-hq/tandem/internal/mail"
)

// EncodePayload stores a ready message (a digest) in an outbox row.
func EncodePayload(m mail.Message) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}

func decodePayload(s string) (mail.Message, error) {
	var m mail.Message
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}
