package apple

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"path"
	"slices"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// Wire values of Apple's interactive messages.
const (
	typeInteractive = "interactive"
	typeRichLink    = "richLink"
	// BuiltInBID is the bid of Apple's own Messages for Business extension,
	// which shows list pickers, time pickers, quick replies, authentication
	// and Apple Pay.
	BuiltInBID = "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.icloud.apps.messages.business.extension"
	// bidPrefix is the start of every extension's bid; the team id and the
	// extension's bundle id follow.
	bidPrefix = "com.apple.messages.MSMessageExtensionBalloonPlugin:"
	// TimeLayout is the layout of a time picker's startTime.
	TimeLayout = "2006-01-02T15:04-0700"
)

// outbound is the body of a message sent to Apple's MSP gateway.
type outbound struct {
	V               int              `json:"v"`
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	SourceID        string           `json:"sourceId"`
	DestinationID   string           `json:"destinationId"`
	Locale          string           `json:"locale,omitempty"`
	Body            string           `json:"body,omitempty"`
	Attachments     []Attachment     `json:"attachments,omitempty"`
	RichLinkData    *richLinkData    `json:"richLinkData,omitempty"`
	InteractiveData *interactiveData `json:"interactiveData,omitempty"`
}

type richLinkData struct {
	URL    string         `json:"url"`
	Title  string         `json:"title"`
	Assets richLinkAssets `json:"assets"`
}

type richLinkAssets struct {
	Image *asset `json:"image,omitempty"`
	Video *asset `json:"video,omitempty"`
}

// asset is a rich link's image (data) or video (url).
type asset struct {
	Data     []byte `json:"data,omitempty"`
	URL      string `json:"url,omitempty"`
	MimeType string `json:"mimeType"`
}

type interactiveData struct {
	BID             string       `json:"bid"`
	AppID           int64        `json:"appId,omitempty"`
	AppName         string       `json:"appName,omitempty"`
	AppIcon         []byte       `json:"appIcon,omitempty"`
	URL             string       `json:"URL,omitempty"`
	UseLiveLayout   *bool        `json:"useLiveLayout,omitempty"`
	Data            *payloadData `json:"data,omitempty"`
	ReceivedMessage *bubble      `json:"receivedMessage,omitempty"`
	ReplyMessage    *bubble      `json:"replyMessage,omitempty"`
	// SessionIdentifier is kept by Apple and carried back by the answer;
	// Apple makes one when it is absent.
	SessionIdentifier string `json:"sessionIdentifier,omitempty"`
}

// payloadData is data of an interactive message of Apple's own extension.
type payloadData struct {
	Version           string        `json:"version"`
	RequestIdentifier string        `json:"requestIdentifier"`
	Images            []imageOut    `json:"images"`
	ListPicker        *listPicker   `json:"listPicker,omitempty"`
	QuickReply        *quickReply   `json:"quick-reply,omitempty"`
	Event             *event        `json:"event,omitempty"`
	Authenticate      *authenticate `json:"authenticate,omitempty"`
	Payment           *payment      `json:"payment,omitempty"`
}

type imageOut struct {
	Identifier string `json:"identifier"`
	Data       []byte `json:"data"`
}

type bubble struct {
	Title           string `json:"title"`
	Subtitle        string `json:"subtitle,omitempty"`
	Style           string `json:"style,omitempty"`
	ImageIdentifier string `json:"imageIdentifier,omitempty"`
}

type listPicker struct {
	Sections []listSection `json:"sections"`
}

type listSection struct {
	Title             string     `json:"title,omitempty"`
	Order             int        `json:"order"`
	MultipleSelection bool       `json:"multipleSelection"`
	Items             []listItem `json:"items"`
}

type listItem struct {
	Identifier      string `json:"identifier"`
	Title           string `json:"title"`
	Subtitle        string `json:"subtitle,omitempty"`
	Order           int    `json:"order"`
	Style           string `json:"style"`
	ImageIdentifier string `json:"imageIdentifier,omitempty"`
}

type quickReply struct {
	SummaryText string           `json:"summaryText"`
	Items       []quickReplyItem `json:"items"`
}

type quickReplyItem struct {
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
}

type event struct {
	Identifier     string         `json:"identifier"`
	Title          string         `json:"title"`
	TimezoneOffset *int           `json:"timezoneOffset,omitempty"`
	Location       *eventLocation `json:"location,omitempty"`
	Timeslots      []timeslot     `json:"timeslots"`
}

type eventLocation struct {
	Title     string  `json:"title,omitempty"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Radius    float64 `json:"radius,omitempty"`
}

type timeslot struct {
	Identifier string `json:"identifier"`
	StartTime  string `json:"startTime"`
	Duration   int    `json:"duration"`
}

type authenticate struct {
	OAuth2 oauth2 `json:"oauth2"`
}

type oauth2 struct {
	ResponseType          string   `json:"responseType"`
	Scope                 []string `json:"scope"`
	State                 string   `json:"state"`
	ResponseEncryptionKey string   `json:"responseEncryptionKey"`
	ClientSecret          string   `json:"clientSecret,omitempty"`
}

type payment struct {
	PaymentRequest  json.RawMessage `json:"paymentRequest"`
	MerchantSession json.RawMessage `json:"merchantSession"`
	Endpoints       payEndpointURLs `json:"endpoints"`
}

type payEndpointURLs struct {
	PaymentGatewayURL        string `json:"paymentGatewayUrl"`
	FallbackURL              string `json:"fallbackUrl"`
	OrderTrackingURL         string `json:"orderTrackingUrl"`
	PaymentMethodUpdateURL   string `json:"paymentMethodUpdateUrl"`
	ShippingContactUpdateURL string `json:"shippingContactUpdateUrl"`
	ShippingMethodUpdateURL  string `json:"shippingMethodUpdateUrl"`
}

// Inputs is what Render needs besides the message, for the types that use
// it: the Client gets them from its hooks and configuration just before
// sending.
type Inputs struct {
	// AuthKey is an auth message's responseEncryptionKey: Base64 of the
	// 97-byte uncompressed P-384 public key.
	AuthKey string
	// MerchantSession is an Apple Pay message's merchant session, as the
	// Apple Pay server returned it.
	MerchantSession json.RawMessage
	// Endpoints are an Apple Pay message's six callback URLs (see
	// PayEndpoints).
	Endpoints map[string]string
	// Attachments are the dictionaries of a text's attachments, uploaded,
	// in the order of the message's attachments.
	Attachments []Attachment
}

// PayEndpoints returns the callback URLs of an Apple Pay message, by
// Apple's key: parley's own under base (base + "/webhooks/apple/pay/" +
// name), except those m.Endpoints overrides. A key left without a URL is
// absent.
func PayEndpoints(base string, m message.Message) map[string]string {
	urls := make(map[string]string, len(payEndpoints))
	for _, e := range payEndpoints {
		if u := m.Endpoints[e.key]; u != "" {
			urls[e.key] = u
		} else if base != "" {
			urls[e.key] = strings.TrimSuffix(base, "/") + "/webhooks/apple/pay/" + e.name
		}
	}
	return urls
}

// Render returns the JSON body of o for the gateway. o.PlatformMessageID
// is the Apple message id, a UUID the sender chooses; interactive messages
// use it as their requestIdentifier too, so that a reply names the message
// it answers. Render does not validate the content (that is Validate's
// job), but it refuses a type it cannot render (unsupported_on_channel), an
// image not yet fetched, missing inputs (attachments not uploaded) and a
// body over MaxBody.
func Render(o message.Outgoing, in Inputs) ([]byte, error) {
	m := o.Message
	if !Supports(m.Type) {
		return nil, message.Errorf(message.CodeUnsupportedOnChannel, "message type %q cannot be sent on the apple channel", m.Type)
	}
	if o.PlatformMessageID == "" {
		return nil, errors.New("apple: render: the message has no Apple message id")
	}
	out := outbound{V: 1, ID: o.PlatformMessageID, SourceID: o.BusinessID, DestinationID: o.To, Locale: m.Locale}
	var err error
	switch m.Type {
	case message.TypeTyping:
		out.Type = typeTypingStart
		if m.State == message.TypingEnd {
			out.Type = typeTypingEnd
		}
	case message.TypeText:
		out.Type = typeText
		if len(in.Attachments) != len(m.Attachments) {
			return nil, fmt.Errorf("apple: render: %d of the message's %d attachments are uploaded", len(in.Attachments), len(m.Attachments))
		}
		// One U+FFFC per attachment, in order, after the text.
		out.Body = m.Text + strings.Repeat(placeholder, len(m.Attachments))
		out.Attachments = in.Attachments
	case message.TypeRichLink:
		out.Type = typeRichLink
		out.Body = m.URL
		out.RichLinkData, err = renderRichLink(m)
	case message.TypeCustom:
		out.Type = typeInteractive
		out.InteractiveData, err = renderCustom(m)
	default:
		out.Type = typeInteractive
		out.InteractiveData, err = renderBuiltIn(o.PlatformMessageID, m, in)
	}
	if err != nil {
		return nil, err
	}
	if out.InteractiveData != nil {
		out.InteractiveData.SessionIdentifier = m.SessionIdentifier
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("apple: render: %w", err)
	}
	if len(b) > MaxBody {
		return nil, message.Invalid(message.Problems{{Field: "message",
			Problem: fmt.Sprintf("renders to %d bytes for Apple, the limit is %d", len(b), MaxBody)}})
	}
	return b, nil
}

// notFetched is the error of an image Render finds without bytes.
func notFetched(field string) error {
	return fmt.Errorf("apple: render: %s: the image has not been fetched", field)
}

func renderRichLink(m message.Message) (*richLinkData, error) {
	d := &richLinkData{URL: m.URL, Title: m.Title}
	if m.Image != nil {
		if len(m.Image.Data) == 0 {
			return nil, notFetched("message.image")
		}
		d.Assets.Image = &asset{Data: m.Image.Data, MimeType: imageMIME(m.Image.Data)}
	}
	if m.VideoURL != "" {
		d.Assets.Video = &asset{URL: m.VideoURL, MimeType: videoMIME(m.VideoURL)}
	}
	return d, nil
}

// videoMIME returns the MIME type of a video by its URL's extension;
// video/mp4 when it has none parley knows.
func videoMIME(u string) string {
	ext := strings.ToLower(path.Ext(strings.SplitN(strings.SplitN(u, "?", 2)[0], "#", 2)[0]))
	switch ext {
	case ".mov":
		return "video/quicktime"
	case ".m4v":
		return "video/x-m4v"
	}
	if t := mime.TypeByExtension(ext); strings.HasPrefix(t, "video/") {
		return t
	}
	return "video/mp4"
}

func renderCustom(m message.Message) (*interactiveData, error) {
	if m.Image == nil || len(m.Image.Data) == 0 {
		return nil, notFetched("message.image")
	}
	live := true
	if m.LiveLayout != nil {
		live = *m.LiveLayout
	}
	d := &interactiveData{
		BID:           bidPrefix + m.TeamID + ":" + m.BundleID,
		AppID:         m.AppID,
		AppName:       m.AppName,
		AppIcon:       m.Image.Data,
		URL:           m.URL,
		UseLiveLayout: &live,
	}
	d.ReceivedMessage, d.ReplyMessage = bubbles(m)
	return d, nil
}

// bubbles returns the receivedMessage and replyMessage of m; replyMessage
// repeats receivedMessage when m has no replyBubble.
func bubbles(m message.Message) (*bubble, *bubble) {
	r := received(m)
	rec := toBubble(r)
	reply := rec
	if m.ReplyBubble != nil {
		reply = toBubble(*m.ReplyBubble)
	}
	return rec, reply
}

func toBubble(b message.Bubble) *bubble {
	style := b.Style
	if style == "" {
		style = "icon"
	}
	return &bubble{Title: b.Title, Subtitle: b.Subtitle, Style: style, ImageIdentifier: b.ImageID}
}

func renderBuiltIn(requestID string, m message.Message, in Inputs) (*interactiveData, error) {
	data := &payloadData{Version: "1.0", RequestIdentifier: requestID, Images: []imageOut{}}
	for i, img := range m.Images {
		if len(img.Data) == 0 {
			return nil, notFetched(fmt.Sprintf("message.images[%d]", i))
		}
		data.Images = append(data.Images, imageOut{Identifier: img.ID, Data: img.Data})
	}
	d := &interactiveData{BID: BuiltInBID, Data: data}
	switch m.Type {
	case message.TypeList:
		data.ListPicker = renderList(m)
	case message.TypeButtons:
		qr := &quickReply{SummaryText: m.Body}
		for _, b := range m.Buttons {
			qr.Items = append(qr.Items, quickReplyItem{Identifier: b.ID, Title: b.Title})
		}
		data.QuickReply = qr
		// Apple's quick reply shows no bubble of its own; parley sends one
		// only when asked.
		if m.Bubble == nil && m.ReplyBubble == nil {
			return d, nil
		}
	case message.TypeTimePicker:
		data.Event = renderEvent(requestID, m)
	case message.TypeAuth:
		if in.AuthKey == "" {
			return nil, errors.New("apple: render: an auth message needs its response encryption key")
		}
		o := m.OAuth
		if o == nil {
			return nil, errors.New("apple: render: an auth message needs message.oauth")
		}
		data.Authenticate = &authenticate{OAuth2: oauth2{
			ResponseType: o.ResponseType, Scope: o.Scope, State: o.State,
			ResponseEncryptionKey: in.AuthKey, ClientSecret: o.ClientSecret,
		}}
	case message.TypeApplePay:
		p, err := renderPayment(m, in)
		if err != nil {
			return nil, err
		}
		data.Payment = p
	}
	d.ReceivedMessage, d.ReplyMessage = bubbles(m)
	return d, nil
}

func renderList(m message.Message) *listPicker {
	lp := &listPicker{Sections: []listSection{}}
	for i, s := range m.Sections {
		sec := listSection{Title: s.Title, Order: i, MultipleSelection: m.Multiple(i), Items: []listItem{}}
		for j, it := range s.Items {
			sec.Items = append(sec.Items, listItem{
				Identifier: it.ID, Title: it.Title, Subtitle: it.Description,
				Order: j, Style: "default", ImageIdentifier: it.ImageID,
			})
		}
		lp.Sections = append(lp.Sections, sec)
	}
	return lp
}

func renderEvent(id string, m message.Message) *event {
	e := &event{Identifier: id, Title: m.Title, TimezoneOffset: m.TimezoneOffset, Timeslots: []timeslot{}}
	if l := m.Location; l != nil {
		e.Location = &eventLocation{Title: l.Title, Latitude: l.Latitude, Longitude: l.Longitude, Radius: l.Radius}
	}
	for _, s := range m.Slots {
		e.Timeslots = append(e.Timeslots, timeslot{Identifier: s.ID, StartTime: s.Start.UTC().Format(TimeLayout), Duration: s.Duration})
	}
	return e
}

func renderPayment(m message.Message, in Inputs) (*payment, error) {
	if len(in.MerchantSession) == 0 {
		return nil, errors.New("apple: render: an Apple Pay message needs a merchant session")
	}
	var missing []string
	for _, e := range payEndpoints {
		if in.Endpoints[e.key] == "" {
			missing = append(missing, e.key)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("apple: render: an Apple Pay message has no URL for %s", strings.Join(missing, ", "))
	}
	u := in.Endpoints
	return &payment{
		PaymentRequest:  m.Payment,
		MerchantSession: in.MerchantSession,
		Endpoints: payEndpointURLs{
			PaymentGatewayURL:        u["paymentGatewayUrl"],
			FallbackURL:              u["fallbackUrl"],
			OrderTrackingURL:         u["orderTrackingUrl"],
			PaymentMethodUpdateURL:   u["paymentMethodUpdateUrl"],
			ShippingContactUpdateURL: u["shippingContactUpdateUrl"],
			ShippingMethodUpdateURL:  u["shippingMethodUpdateUrl"],
		},
	}, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
