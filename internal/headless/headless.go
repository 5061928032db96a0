// Package headless opens a local HTML file in headless Chromium and reports
// what a reader would get: the sections on the page, whether every image
// decoded, every request the page made, every console error, and a
// screenshot. Tests use it to check signet's HTML reports render and stay
// self-contained.
//
// It speaks the DevTools protocol over --remote-debugging-pipe: JSON
// messages separated by NUL bytes on file descriptors 3 (to the browser)
// and 4 (from it). That needs no websocket client and opens no port.
package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// ErrNoBrowser means no Chromium was found on PATH.
var ErrNoBrowser = errors.New("headless: no chromium on PATH")

// Find returns the path of a Chromium binary: Debian's chromium, or one of
// the other names it goes by.
func Find() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Image is one <img> of the page once loaded.
type Image struct {
	Src           string `json:"src"` // the first 40 characters
	NaturalWidth  int    `json:"naturalWidth"`
	NaturalHeight int    `json:"naturalHeight"`
	Complete      bool   `json:"complete"`
}

// Result is what the page did.
type Result struct {
	Title    string   `json:"title"`
	Sections []string `json:"sections"` // ids of <section> elements, in order
	Images   []Image  `json:"images"`
	SVGs     int      `json:"svgs"`
	// TextLength is the length of the page's visible text.
	TextLength int `json:"textLength"`
	// Requests lists every URL the browser was asked to fetch for the
	// page after the page itself, data: URIs included.
	Requests []string `json:"-"`
	// Console holds console errors and warnings, uncaught exceptions and
	// browser log entries of level warning or error (a Content-Security-
	// Policy violation is one).
	Console []string `json:"-"`
	// Screenshot is a PNG of the top of the page, Width wide.
	Screenshot []byte `json:"-"`
	// Height is the page's full height in CSS pixels.
	Height int `json:"-"`
}

// Options tune Load.
type Options struct {
	Browser   string        // path of the binary; empty means Find
	Width     int           // viewport width; 0 means 1100
	MaxHeight int           // screenshot height limit; 0 means 2400
	Timeout   time.Duration // 0 means 60 s
}

// probe runs in the page after load. It reads the DOM only.
const probe = `JSON.stringify({
 title: document.title,
 sections: Array.from(document.querySelectorAll("section[id]"), s => s.id),
 images: Array.from(document.images, i => ({src: i.getAttribute("src").slice(0, 40), naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, complete: i.complete})),
 svgs: document.querySelectorAll("svg").length,
 textLength: document.body ? document.body.innerText.length : 0
})`

// Browser is one running headless Chromium; Load opens pages in it, one
// tab each. Close it when done.
type Browser struct {
	cmd    *exec.Cmd
	c      *conn
	stderr *limitedBuffer
	dir    string
	opts   Options
}

// Start launches Chromium with a fresh, temporary profile.
func Start(opts Options) (*Browser, error) {
	if opts.Browser == "" {
		b, err := Find()
		if err != nil {
			return nil, err
		}
		opts.Browser = b
	}
	if opts.Width == 0 {
		opts.Width = 1100
	}
	if opts.MaxHeight == 0 {
		opts.MaxHeight = 2400
	}
	if opts.Timeout == 0 {
		opts.Timeout = 60 * time.Second
	}
	profile, err := os.MkdirTemp("", "signet-headless-")
	if err != nil {
		return nil, err
	}
	toBrowser, cmdW, err := os.Pipe() // the browser reads fd 3
	if err != nil {
		os.RemoveAll(profile)
		return nil, err
	}
	respR, fromBrowser, err := os.Pipe() // the browser writes fd 4
	if err != nil {
		toBrowser.Close()
		cmdW.Close()
		os.RemoveAll(profile)
		return nil, err
	}
	cmd := exec.Command(opts.Browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-sync", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	b := &Browser{cmd: cmd, stderr: &limitedBuffer{}, dir: profile, opts: opts}
	cmd.Stderr = b.stderr
	err = cmd.Start()
	toBrowser.Close()
	fromBrowser.Close()
	if err != nil {
		cmdW.Close()
		respR.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("headless: start %s: %w", opts.Browser, err)
	}
	b.c = newConn(cmdW, respR)
	return b, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	b.c.call(ctx, "", "Browser.close", nil, nil) // the kill below covers a browser that does not answer
	cancel()
	b.c.close()
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
}

// Load opens the HTML file at path in a new tab and reports what happened.
func (b *Browser) Load(ctx context.Context, path string) (*Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	pageURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	ctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	defer cancel()
	res, err := b.c.run(ctx, pageURL, b.opts)
	if err != nil {
		return nil, fmt.Errorf("%w (browser stderr: %s)", err, bytes.TrimSpace(b.stderr.Bytes()))
	}
	return res, nil
}

// Load starts a browser, loads one page and stops the browser.
func Load(ctx context.Context, path string, opts Options) (*Result, error) {
	b, err := Start(opts)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Load(ctx, path)
}

func (c *conn) run(ctx context.Context, pageURL string, opts Options) (*Result, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	defer c.call(context.Background(), "", "Target.closeTarget", map[string]any{"targetId": target.TargetID}, nil)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	sid := attached.SessionID
	rec := c.watch(sid)
	defer c.unwatch(sid)
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if err := c.call(ctx, sid, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := c.call(ctx, sid, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": opts.Width, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.call(ctx, sid, "Page.navigate", map[string]any{"url": pageURL}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("headless: navigate %s: %s", pageURL, nav.ErrorText)
	}
	// Loaded means the navigation reached the page and its load event (which
	// waits for every image) has run.
	for {
		var st struct {
			Result struct {
				Value string `json:"value"`
			} `json:"result"`
		}
		if err := c.call(ctx, sid, "Runtime.evaluate", map[string]any{"expression": `document.readyState + " " + location.href`, "returnByValue": true}, &st); err != nil {
			return nil, err
		}
		if st.Result.Value == "complete "+pageURL {
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, fmt.Errorf("headless: page did not load: %w", ctx.Err())
		}
	}
	var ev struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := c.call(ctx, sid, "Runtime.evaluate", map[string]any{"expression": probe, "returnByValue": true}, &ev); err != nil {
		return nil, err
	}
	if len(ev.ExceptionDetails) > 0 {
		return nil, fmt.Errorf("headless: probe failed: %s", ev.ExceptionDetails)
	}
	res := &Result{}
	if err := json.Unmarshal([]byte(ev.Result.Value), res); err != nil {
		return nil, fmt.Errorf("headless: probe result: %w", err)
	}
	var metrics struct {
		Content struct {
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := c.call(ctx, sid, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		return nil, err
	}
	res.Height = int(metrics.Content.Height)
	h := min(max(res.Height, 1), opts.MaxHeight)
	var shot struct {
		Data string `json:"data"`
	}
	if err := c.call(ctx, sid, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": opts.Width, "height": h, "scale": 1}}, &shot); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, fmt.Errorf("headless: screenshot: %w", err)
	}
	res.Screenshot = png
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range rec.requests {
		if u != pageURL {
			res.Requests = append(res.Requests, u)
		}
	}
	res.Console = append(res.Console, rec.console...)
	return res, nil
}

// conn is one DevTools connection: NUL-terminated JSON both ways.
type conn struct {
	w       io.WriteCloser
	r       io.ReadCloser
	mu      sync.Mutex
	nextID  int
	pending map[int]chan message
	pages   map[string]*recorder // by session id
}

// recorder collects one tab's events.
type recorder struct {
	requests, console []string
}

type message struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newConn(w io.WriteCloser, r io.ReadCloser) *conn {
	c := &conn{w: w, r: r, pending: map[int]chan message{}, pages: map[string]*recorder{}}
	go c.read()
	return c
}

func (c *conn) close() {
	c.w.Close()
	c.r.Close()
}

// watch starts recording the events of one session.
func (c *conn) watch(sid string) *recorder {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &recorder{}
	c.pages[sid] = r
	return r
}

func (c *conn) unwatch(sid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pages, sid)
}

func (c *conn) read() {
	br := bufio.NewReaderSize(c.r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.pending[m.ID]; ok {
				ch <- m
				delete(c.pending, m.ID)
			}
		} else if r := c.pages[m.SessionID]; r != nil {
			r.event(m)
		}
		c.mu.Unlock()
	}
}

// event records one page event; the conn's mutex is held.
func (c *recorder) event(m message) {
	switch m.Method {
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			c.requests = append(c.requests, p.Request.URL)
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(m.Params, &p) == nil && (p.Type == "error" || p.Type == "warning" || p.Type == "assert") {
			msg := p.Type + ":"
			for _, a := range p.Args {
				msg += fmt.Sprintf(" %v%s", a.Value, a.Description)
			}
			c.console = append(c.console, msg)
		}
	case "Runtime.exceptionThrown":
		c.console = append(c.console, "exception: "+string(m.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		if json.Unmarshal(m.Params, &p) == nil && (p.Entry.Level == "error" || p.Entry.Level == "warning") {
			c.console = append(c.console, fmt.Sprintf("%s (%s): %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL))
		}
	}
}

// call sends one command and waits for its answer, decoded into out.
func (c *conn) call(ctx context.Context, sid, method string, params any, out any) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan message, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	req := map[string]any{"id": id, "method": method}
	if sid != "" {
		req["sessionId"] = sid
	}
	if params != nil {
		req["params"] = params
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return fmt.Errorf("headless: %s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("headless: %s: browser closed the connection", method)
		}
		if m.Error != nil {
			return fmt.Errorf("headless: %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("headless: %s: %w", method, ctx.Err())
	}
}

// limitedBuffer keeps the first 8 KiB written to it: enough of the
// browser's stderr to explain a failure.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 8<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}
