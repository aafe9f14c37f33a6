package playground_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/infra/local"
)

// TestBrowser drives the playground of a whole local stack in Chromium, as a
// person would: the customer writes, the business sends a WhatsApp list and
// an Apple time picker from the composer's examples, the customer picks a
// row and a slot on their phone, and the replies show in the event panel.
// It leaves full-page screenshots in artifacts/playground/.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed, and the playground's browser test needs it: apt-get install -y chromium (%v)", err)
	}
	shots := artifacts(t)
	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_LOG_LEVEL": "warn"}
	st, err := local.Start(context.Background(), local.Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] }, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := http.Get(st.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET / on the local stack answers %s, not the playground: infra/local must mount playground.Handler at /", ct)
	}

	b := startBrowser(t, chromium, shots)
	b.do("open the page", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(st.URL+"/"), chromedp.WaitVisible(`#conn[data-state="connected"]`))

	// WhatsApp: the customer opens the window, the business sends a list,
	// the customer picks a row.
	b.do("write as the WhatsApp customer",
		chromedp.SendKeys(`#whatsapp input[name=text]`, "Is the 14:00 slot free?"),
		chromedp.Click(`#whatsapp form[data-role=reply] button[type=submit]`),
		chromedp.WaitVisible(`#whatsapp [data-role=state][data-window="open"]`),
		chromedp.WaitVisible(`#whatsapp li.msg.mine[data-type="text"]`))
	b.send("whatsapp", "list")
	b.do("pick a row of the list",
		chromedp.Click(`#whatsapp li.msg[data-type="list"] button[data-action="open-list"]`),
		chromedp.WaitVisible(`#sheet[open]`),
		chromedp.Click(`#sheet label.choice:has(input[value="slot:1400"])`))
	b.shot("whatsapp-list-sheet")
	b.do("send the row",
		chromedp.Click(`#sheet-send`),
		chromedp.WaitNotPresent(`#sheet[open]`),
		chromedp.WaitVisible(`#event-list li[data-type="message.received"][data-channel="whatsapp"][data-body="selection"]`),
		chromedp.WaitVisible(`#whatsapp li.msg.mine[data-type="selection"]`))
	b.shot("whatsapp-list")
	b.do("send a photo as the WhatsApp customer",
		chromedp.SendKeys(`#whatsapp input[name=text]`, "Here is the parcel"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#whatsapp select[data-role=media]'); s.value = 'image'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.WaitVisible(`#event-list li[data-type="message.received"][data-channel="whatsapp"][data-body="media"]`),
		chromedp.WaitVisible(`#whatsapp li.msg.mine[data-type="media"]`))

	// Apple: the customer writes (their device's capabilities come with
	// it), the business sends a time picker, the customer picks a slot.
	b.do("write as the Apple customer",
		chromedp.SendKeys(`#apple input[name=text]`, "Can I book a fitting?"),
		chromedp.Click(`#apple form[data-role=reply] button[type=submit]`),
		chromedp.WaitVisible(`#apple li.msg.mine[data-type="text"]`))
	b.send("apple", "timePicker")
	b.do("pick a slot of the time picker",
		chromedp.Click(`#apple li.msg[data-type="timePicker"] button[data-action="open-timepicker"]`),
		chromedp.WaitVisible(`#sheet[open]`),
		chromedp.Click(`#sheet label.slot:has(input[value="slot-2"])`))
	b.shot("apple-timepicker-sheet")
	b.do("send the slot",
		chromedp.Click(`#sheet-send`),
		chromedp.WaitNotPresent(`#sheet[open]`),
		chromedp.WaitVisible(`#event-list li[data-type="message.received"][data-channel="apple"][data-body="timeslot"]`),
		chromedp.WaitVisible(`#apple li.msg.mine[data-type="timeslot"]`))
	b.shot("apple-timepicker")

	// The conversation list: both conversations, the most recent first,
	// each marked as the one its phone shows, with its state.
	b.do("see both conversations listed",
		chromedp.WaitVisible(`#conv-list li[data-channel="whatsapp"][data-window="open"] button[aria-current="true"]`),
		chromedp.WaitVisible(`#conv-list li[data-channel="apple"][data-window="open"] button[aria-current="true"]`))
	if got := b.eval(`[...document.querySelectorAll('#conv-list li')].map((li) => li.dataset.customer).join(' ')`); got != appleCustomer+" "+waCustomer {
		t.Errorf("conversations listed %q, want the Apple one (the most recent) then the WhatsApp one", got)
	}

	// A customer the page does not show writes, and the business answers
	// through the API: the list shows them first, and a click opens them.
	const other = "447700900777"
	post(t, st.URL+"/sim/whatsapp/reply", `{"businessId":"`+waBusiness+`","from":"`+other+`","name":"Alex","text":"Do you deliver on Sundays?"}`)
	post(t, st.URL+"/v1/messages", `{"channel":"whatsapp","businessId":"`+waBusiness+`","to":"`+other+`","message":{"type":"text","text":"Yes, from 10:00."}}`)
	b.do("open another customer's conversation from the list",
		chromedp.WaitVisible(`#conv-list li:first-child[data-customer="`+other+`"][data-window="open"]`),
		chromedp.Click(`#conv-list li[data-customer="`+other+`"] button`),
		chromedp.WaitVisible(`#conv-list li[data-customer="`+other+`"] button[aria-current="true"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatsapp [data-role=thread]').textContent.includes('Yes, from 10:00.')`),
		chromedp.WaitNotPresent(`#conv-list li[data-customer="`+waCustomer+`"] button[aria-current="true"]`))
	if got := b.eval(`document.querySelector('#whatsapp input[name=customerId]').value + ' ' + new URLSearchParams(location.search).get('waCustomer')`); got != other+" "+other {
		t.Errorf("after the click the WhatsApp customer and the URL's waCustomer are %q, want %s twice", got, other)
	}
	if b.eval(`String(document.querySelector('#whatsapp [data-role=thread]').textContent.includes('Is the 14:00 slot free?'))`) != "false" {
		t.Error("the other customer's phone still shows the first customer's messages")
	}
	b.shot("conversation-list")

	// A link names both conversations: the page opens them.
	link := st.URL + "/?" + url.Values{"waBusiness": {waBusiness}, "waCustomer": {waCustomer}, "appleBusiness": {appleBusiness}, "appleCustomer": {appleCustomer}}.Encode()
	b.do("open both conversations from a link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(`#conn[data-state="connected"]`),
		chromedp.WaitVisible(`#whatsapp li.msg.mine[data-type="selection"]`),
		chromedp.WaitVisible(`#apple li.msg.mine[data-type="timeslot"]`),
		chromedp.WaitVisible(`#conv-list li[data-customer="`+waCustomer+`"] button[aria-current="true"]`),
		chromedp.WaitVisible(`#conv-list li[data-customer="`+appleCustomer+`"] button[aria-current="true"]`))
	if got := b.eval(`document.querySelector('#conv-list li[data-customer="` + other + `"] button').getAttribute('aria-current') || 'none'`); got != "none" {
		t.Errorf("a conversation the link does not name is marked %q", got)
	}

	// The WhatsApp customer's other acts, from "More…": a contact card,
	// a changed security code, a marketing opt-out, a text by username
	// with the number hidden, a text in a group.
	more := func(item string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#whatsapp select[data-role=more]'); s.value = '` + item + `'; s.dispatchEvent(new Event('change')); })()`)
	}
	b.do("share a contact card as the WhatsApp customer",
		chromedp.SendKeys(`#whatsapp input[name=text]`, "Dana Okafor"),
		more("contacts"),
		chromedp.WaitVisible(`#event-list li[data-type="message.received"][data-channel="whatsapp"][data-body="contacts"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatsapp [data-role=thread]').textContent.includes('Dana Okafor')`))
	b.do("the customer's security code changes; they stop marketing messages",
		more("identity"),
		chromedp.WaitVisible(`#event-list li[data-type="message.received"][data-channel="whatsapp"][data-body="system"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatsapp [data-role=thread]').textContent.includes('security code changed')`),
		more("stop"),
		chromedp.WaitVisible(`#event-list li[data-type="customer.preferences"][data-channel="whatsapp"]`))
	if got := b.text(`#event-list li[data-type="customer.preferences"] .event-summary`); got != "marketing_messages: stop" {
		t.Errorf("the opt-out's event reads %q, want %q", got, "marketing_messages: stop")
	}
	b.do("write by username with the number hidden, then in a group",
		chromedp.SendKeys(`#whatsapp input[name=text]`, "Sam here, by username"),
		more("username"),
		chromedp.Poll[chromedp.Void](`document.querySelector('#whatsapp [data-role=thread]').textContent.includes('Sam here, by username')`),
		chromedp.SendKeys(`#whatsapp input[name=text]`, "Friday, everyone?"),
		more("group"),
		chromedp.WaitVisible(`#conv-list li[data-customer="Y2FwaV9ncm91cDpwbGF5Z3JvdW5kOjEyMDM2MzQwNDY5NDIzMzgyMA"]`))
	if got := b.text(`#whatsapp [data-role=error]`); got != "" {
		t.Errorf("the WhatsApp phone shows a problem: %q", got)
	}
	b.shot("whatsapp-more")

	// A message WhatsApp cannot show: the problem names the field, beside
	// the editor, and its line is marked.
	b.do("send a list with a row title over the limit",
		chromedp.Click(`input[name=channel][value=whatsapp]`),
		chromedp.Click(`#examples button[data-type="list"]`),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const t = document.getElementById('request');
			const r = JSON.parse(t.value);
			r.message.sections[0].items[1].title = 'A row title far over the limit';
			t.value = JSON.stringify(r, null, 2);
			t.dispatchEvent(new Event('input'));
		})()`),
		chromedp.Click(`#send`),
		chromedp.WaitVisible(`#problems li[data-field="message.sections[0].items[1].title"]`),
		chromedp.WaitVisible(`#gutter .bad`))
	marked, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		const rows = document.getElementById('request').value.split('\n');
		const line = rows.findIndex((r) => r.includes('A row title far over the limit')) + 1;
		const bad = [...document.querySelectorAll('#gutter .bad')].map((e) => Number(e.textContent));
		return bad.length === 1 && bad[0] === line;
	})()`))
	if err != nil || !marked {
		t.Errorf("the editor does not mark exactly the line of the row title the API named (err %v)", err)
	}
	b.shot("validation")

	// Not JSON: said so, nothing sent.
	b.do("send text that is not JSON",
		chromedp.SetValue(`#request`, "{\n  \"channel\": \"whatsapp\",\n  \"message\": {\n}"),
		chromedp.Click(`#send`),
		chromedp.WaitVisible(`#composer-error`))
	if got := b.text(`#composer-error`); !strings.Contains(got, "not valid JSON") || !strings.Contains(got, "Nothing was sent") {
		t.Errorf("composer error for text that is not JSON = %q, want it to say it is not valid JSON and nothing was sent", got)
	}

	// The server goes away: the page says so.
	st.Close()
	b.do("see the stack go away", chromedp.WaitVisible(`#conn[data-state="disconnected"]`))
	if got := b.text(`#conn`); got != "disconnected — reconnecting…" {
		t.Errorf("connection state = %q, want %q", got, "disconnected — reconnecting…")
	}
	b.shot("disconnected")

	if errs := b.exceptions(); len(errs) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(errs, "\n"))
	}
}

// browser is a Chromium tab the test drives.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string

	mu     sync.Mutex
	thrown []string
}

func startBrowser(t *testing.T, chromium, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, shots: shots}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source == "") {
				b.mu.Lock()
				b.thrown = append(b.thrown, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// stepTimeout bounds one step, so that a failure names the step instead of
// the test timing out.
const stepTimeout = 30 * time.Second

// do runs the actions of one step; on failure it keeps a screenshot and
// reports what the page showed.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		name := "failed-" + strings.ReplaceAll(step, " ", "-")
		b.shot(name)
		b.t.Fatalf("%s: %v\npage state:\n%s\nscreenshot: %s", step, err, b.state(), filepath.Join(b.shots, name+".png"))
	}
}

// send sends the composer's example of type on channel and waits for the
// API's success.
func (b *browser) send(channel, typ string) {
	b.t.Helper()
	b.do("send a "+channel+" "+typ+" from the composer",
		chromedp.Click(`input[name=channel][value=`+channel+`]`),
		chromedp.Click(`#examples button[data-type="`+typ+`"]`),
		chromedp.Click(`#send`),
		chromedp.WaitVisible(`#send-state.ok`),
		chromedp.WaitVisible(`#`+channel+` li.msg[data-type="`+typ+`"]`))
}

// state is what the page shows of the last answers and errors.
func (b *browser) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[
		'connection: ' + document.getElementById('conn').textContent,
		'send state: ' + document.getElementById('send-state').textContent,
		'composer error: ' + document.getElementById('composer-error').textContent,
		'answer: ' + document.getElementById('answer').textContent,
		'whatsapp: ' + document.querySelector('#whatsapp [data-role=error]').textContent,
		'apple: ' + document.querySelector('#apple [data-role=error]').textContent,
		'sheet: ' + document.getElementById('sheet-error').textContent,
		'events: ' + [...document.querySelectorAll('#event-list li')].map((li) => li.dataset.type + '/' + li.dataset.body).join(' '),
	].join('\n')`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
	if err != nil {
		b.t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// shot writes a full-page screenshot to the artifacts directory.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

func (b *browser) exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.thrown...)
}

// artifacts returns artifacts/playground under the repository root, made
// empty of earlier screenshots.
func artifacts(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "artifacts", "playground")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	old, err := filepath.Glob(filepath.Join(out, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// The conversations of the browser test.
const (
	waBusiness    = "106540352242922"
	waCustomer    = "447700900123"
	appleBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	appleCustomer = "urn:mbid:AQAAY1x/Wq+Lr0c="
)

// post posts a JSON body and fails the test unless it is answered 2xx.
func post(t *testing.T, url, body string) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, answer)
	}
}

// eval returns what a JavaScript expression gives, as a string.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return s
}
