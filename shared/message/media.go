package message

import "time"

// Media message types of the send API: one file each, from exactly one
// source (URL, MediaID or Upload).
const (
	TypeImage    = "image"
	TypeVideo    = "video"
	TypeAudio    = "audio"
	TypeDocument = "document"
	TypeSticker  = "sticker"
)

// MediaType reports whether t is one of the media message types.
func MediaType(t string) bool {
	switch t {
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		return true
	}
	return false
}

// BodyMedia is the body of a photo, voice note, video, document or
// sticker a customer sent; Body.Media describes it.
const BodyMedia = "media"

// PayloadMedia is the PayloadRef kind of a file a WhatsApp customer sent,
// named by the platform's media id.
const PayloadMedia = "media"

// Media is a file a customer sent (WhatsApp image, audio, video, document
// or sticker), as the webhook described it and, once fetched, where parley
// keeps it.
type Media struct {
	// Type is the platform's kind of media: image, audio, video, document
	// or sticker.
	Type     string `json:"type"`
	Caption  string `json:"caption,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	// FileName is a document's name as the customer's phone gave it.
	FileName string `json:"fileName,omitempty"`
	// Size is the file's size in bytes, known once it is fetched.
	Size int64 `json:"size,omitempty"`
	// SHA256 is the file's hash as the platform gave it (Base64 or hex).
	SHA256 string `json:"sha256,omitempty"`
	// Voice marks an audio recorded in the app (a voice note), Animated an
	// animated sticker.
	Voice    bool `json:"voice,omitempty"`
	Animated bool `json:"animated,omitempty"`
	// ID is the platform's media id (Meta keeps it 7 days).
	ID string `json:"id,omitempty"`
	// Key is the object key of the file in parley's bucket; URL reads it
	// until URLExpiresAt (GET /v1/messages/{id}/media gives a fresh one).
	Key          string    `json:"key,omitempty"`
	URL          string    `json:"url,omitempty"`
	URLExpiresAt time.Time `json:"urlExpiresAt,omitzero"`
}
