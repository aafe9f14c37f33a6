package whatsapp

import (
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley/shared/message"
)

// Media limits: Meta's supported media types, per message type, and the
// largest file of each (CHANNEL.md, "Media"). Sizes are binary megabytes
// and kilobytes, the larger reading of Meta's "MB" and "KB", so that a file
// Meta takes is never refused.
const (
	MaxImageSize           = 5 << 20
	MaxVideoSize           = 16 << 20
	MaxAudioSize           = 16 << 20
	MaxDocumentSize        = 100 << 20
	MaxStickerSize         = 100 << 10 // a static sticker
	MaxAnimatedStickerSize = 500 << 10
	// MaxInboundMediaSize caps a file a customer sends: the Cloud API's
	// largest media (a document). Customers' videos and audio may exceed
	// what a business may send, so the per-type limits do not apply.
	MaxInboundMediaSize = MaxDocumentSize
	// CaptionLimit is the most characters a caption may hold.
	CaptionLimit = 1024
)

// mediaTypes are the MIME types Meta takes for each media message type.
var mediaTypes = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		message.TypeImage: {"image/jpeg", "image/png"},
		message.TypeVideo: {"video/mp4", "video/3gpp"},
		message.TypeAudio: {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
		message.TypeDocument: {"text/plain", "application/pdf",
			"application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		message.TypeSticker: {"image/webp"},
	}
})

// MaxMediaSize is the largest file Meta takes for media messages of type
// typ (a sticker: animated or not), 0 for other types.
func MaxMediaSize(typ string, animated bool) int64 {
	switch typ {
	case message.TypeImage:
		return MaxImageSize
	case message.TypeVideo:
		return MaxVideoSize
	case message.TypeAudio:
		return MaxAudioSize
	case message.TypeDocument:
		return MaxDocumentSize
	case message.TypeSticker:
		if animated {
			return MaxAnimatedStickerSize
		}
		return MaxStickerSize
	}
	return 0
}

// MediaMimeTypes returns the MIME types Meta takes for media messages of
// type typ.
func MediaMimeTypes(typ string) []string { return slices.Clone(mediaTypes()[typ]) }

// checkMimeType reports why Meta would refuse a file of MIME type mt (its
// parameters, e.g. Ogg's codecs, aside) in a message of type typ, or "".
func checkMimeType(typ, mt string) string {
	base, _, err := mime.ParseMediaType(mt)
	if err != nil {
		return fmt.Sprintf("%q is not a MIME type", mt)
	}
	if !slices.Contains(mediaTypes()[typ], base) {
		return fmt.Sprintf("%q is not taken for %s messages: WhatsApp takes %s", base, typ, strings.Join(mediaTypes()[typ], ", "))
	}
	return ""
}

// validateMedia checks a media message: exactly one source, a MIME type
// Meta takes when it is given, the caption's length.
func validateMedia(ps *message.Problems, m message.Message) {
	var sources []string
	if m.URL != "" {
		sources = append(sources, "url")
		checkURL(ps, "message.url", m.URL)
	}
	if m.MediaID != "" {
		sources = append(sources, "mediaId")
	}
	if m.Upload != "" {
		sources = append(sources, "upload")
		if !strings.HasPrefix(m.Upload, UploadPrefix) {
			ps.Add("message.upload", "%q is not a key POST /v1/uploads returned", m.Upload)
		}
	}
	switch len(sources) {
	case 0:
		ps.Add("message", "a %s message needs one of url, mediaId and upload", m.Type)
	case 1:
	default:
		ps.Add("message", "gives %s: exactly one of url, mediaId and upload is allowed", strings.Join(sources, " and "))
	}
	if m.MimeType != "" {
		if why := checkMimeType(m.Type, m.MimeType); why != "" {
			ps.Add("message.mimeType", "%s", why)
		}
	}
	ps.MaxLen("message.caption", m.Caption, CaptionLimit)
}

// UploadPrefix starts the key of every file uploaded through the send
// API's POST /v1/uploads.
const UploadPrefix = message.UploadPrefix

// mediaOut is the media object of a media message: Meta's media id (what
// parley sends, having uploaded the file) or a link.
type mediaOut struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// renderMedia fills req for the media message m.
func renderMedia(req *request, m message.Message) error {
	if m.Upload != "" {
		// Client.Send uploads the file and sends its media id instead.
		return message.Errorf(message.CodeInternal, "whatsapp: %s: an uploaded file must be sent to Meta before the message is rendered", m.Upload)
	}
	o := &mediaOut{ID: m.MediaID, Caption: m.Caption, Filename: m.Filename}
	if o.ID == "" {
		o.Link = m.URL
	}
	req.Type = m.Type
	switch m.Type {
	case message.TypeImage:
		req.Image = o
	case message.TypeVideo:
		req.Video = o
	case message.TypeAudio:
		req.Audio = o
	case message.TypeDocument:
		req.Document = o
	case message.TypeSticker:
		req.Sticker = o
	}
	return nil
}

// inboundMedia are the media objects an inbound message may carry, one per
// media type; inboundMessage embeds it.
type inboundMedia struct {
	Image    *mediaObject `json:"image"`
	Audio    *mediaObject `json:"audio"`
	Video    *mediaObject `json:"video"`
	Document *mediaObject `json:"document"`
	Sticker  *mediaObject `json:"sticker"`
}

// mediaObject is the image, audio, video, document or sticker of a
// webhook's message.
type mediaObject struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

func (in *inboundMedia) object(typ string) *mediaObject {
	switch typ {
	case "image":
		return in.Image
	case "audio":
		return in.Audio
	case "video":
		return in.Video
	case "document":
		return in.Document
	case "sticker":
		return in.Sticker
	}
	return nil
}

// mediaBody reads the media of an image, audio, video, document or
// sticker message. The file itself is fetched later (MediaPayloads).
func mediaBody(m *inboundMessage) (*message.Body, string) {
	o := m.object(m.Type)
	switch {
	case o == nil:
		return nil, m.Type + " is missing"
	case o.ID == "":
		return nil, m.Type + ".id is missing"
	}
	return &message.Body{Type: message.BodyMedia, Media: &message.Media{Type: m.Type, ID: o.ID, Caption: o.Caption,
		MimeType: o.MimeType, FileName: o.Filename, SHA256: o.SHA256, Voice: o.Voice, Animated: o.Animated}}, ""
}

// MediaPayloads returns the payload parley must fetch before body is
// complete: the file of a media body, named by its media id; none for
// other bodies.
func MediaPayloads(body *message.Body) []message.PayloadRef {
	if body == nil || body.Media == nil || body.Media.ID == "" {
		return nil
	}
	ref, err := json.Marshal(body.Media)
	if err != nil {
		return nil
	}
	return []message.PayloadRef{{Kind: message.PayloadMedia, Ref: ref}}
}
