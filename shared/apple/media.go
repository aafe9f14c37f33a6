package apple

import (
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// defaultMediaTypes are the MIME types of media messages whose request and
// file name say none.
var defaultMediaTypes = map[string]string{
	message.TypeImage: "image/jpeg", message.TypeVideo: "video/mp4", message.TypeAudio: "audio/mpeg",
	message.TypeDocument: "application/octet-stream", message.TypeSticker: "image/webp",
}

// defaultNames name the attachment of a media message without a filename
// or a URL path to take one from.
var defaultNames = map[string]string{
	message.TypeImage: "image", message.TypeVideo: "video", message.TypeAudio: "audio",
	message.TypeDocument: "document", message.TypeSticker: "sticker",
}

// MediaText is how a media message (image, video, audio, document,
// sticker) goes on Apple, which has one form for every file: a text with
// the file as its attachment and the caption as its text. The attachment's
// name is the filename, else the URL's last segment, else the type; its
// MIME type the request's, else the name's extension's, else the type's
// usual one.
func MediaText(m message.Message) message.Message {
	name := m.Filename
	if name == "" && m.URL != "" {
		if u, err := url.Parse(m.URL); err == nil {
			if b := path.Base(u.Path); b != "/" && b != "." {
				name = b
			}
		}
	}
	if name == "" {
		name = defaultNames[m.Type]
	}
	mt := m.MimeType
	if mt == "" {
		mt = mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	}
	if mt == "" {
		mt = defaultMediaTypes[m.Type]
	}
	return message.Message{Type: message.TypeText, Text: m.Caption, ReplyTo: m.ReplyTo,
		Attachments: []message.OutgoingAttachment{{Name: name, MimeType: mt, URL: m.URL, Upload: m.Upload}}}
}

// validateMedia checks a media message as Apple will send it: a source
// Apple can read (not a WhatsApp media id) and the attachment's rules.
func validateMedia(m message.Message) message.Problems {
	var ps message.Problems
	if m.MediaID != "" {
		ps.Add("message.mediaId", "is a WhatsApp media id, which Apple cannot read: give url or upload")
		return ps
	}
	for _, p := range Validate(MediaText(m)) {
		// The attachment's fields are the message's own.
		p.Field = strings.Replace(p.Field, "message.attachments[0].", "message.", 1)
		p.Field = strings.Replace(p.Field, "message.attachments[0]", "message", 1)
		p.Field = strings.Replace(p.Field, "message.name", "message.filename", 1)
		ps = append(ps, p)
	}
	return ps
}
