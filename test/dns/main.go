// Command dnsd is a small authoritative DNS server for tests: it holds TXT records that tests
// publish and remove at run time, and answers for them over DNS over HTTPS (RFC 8484), which is
// how a Worker (no system resolver, no UDP) looks names up, and over plain UDP and TCP so that
// `dig @127.0.0.1 -p PORT name TXT` works while debugging.
//
// One HTTP listener serves both:
//
//	GET  /dns-query?dns=<base64url>   DoH, the query in the URL (RFC 8484 §4.1)
//	POST /dns-query                   DoH, the query as the body (content-type application/dns-message)
//	PUT    /records/{name}            {"txt": ["value", ...]} replaces that name's TXT records
//	DELETE /records/{name}            removes the name
//	DELETE /records                   removes every name
//	GET    /records                   every name held, as {"name.": {"txt": [...]}}
//
// Every name is answered with authority: NXDOMAIN for a name it does not hold, NOERROR with no
// answers for a held name asked about another type. Names are case-insensitive and kept fully
// qualified. With port 0 (the default) the kernel picks free ports; the ready line on stdout says
// which:
//
//	{"msg":"dns listening","doh":"http://127.0.0.1:P/dns-query","control":"http://127.0.0.1:P","udp":"127.0.0.1:Q"}
//
// SIGTERM or SIGINT stops it.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// ttl of every record served: what a real zone for domain verification would commonly use.
const ttl = 60

// Largest DNS message there is (its length is 16 bits on TCP); DoH bodies are no longer.
const maxMessage = 65535

// zone holds the published names, each with its TXT values (possibly none: a name that exists
// without TXT records, answered NOERROR with no answers).
type zone struct {
	mu    sync.RWMutex
	names map[string][]string // canonical name (lower case, trailing dot) -> raw TXT values
}

// lookup returns a name's TXT values and whether the name exists. A name that holds nothing itself
// but has held names below it (an "empty non-terminal", like example.com when only
// _verify.example.com is held) exists too (RFC 8020): NXDOMAIN would deny the whole subtree.
func (z *zone) lookup(name string) ([]string, bool) {
	z.mu.RLock()
	defer z.mu.RUnlock()
	if values, ok := z.names[name]; ok {
		return values, true
	}
	if name == "." {
		return nil, true
	}
	for held := range z.names {
		if strings.HasSuffix(held, "."+name) {
			return nil, true
		}
	}
	return nil, false
}

// txtRecords builds the TXT records for one name, one record per value.
func txtRecords(owner string, values []string) []dns.RR {
	rrs := make([]dns.RR, 0, len(values))
	for _, v := range values {
		rrs = append(rrs, &dns.TXT{
			Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: characterStrings(v),
		})
	}
	return rrs
}

// characterStrings splits a value into the character-strings of one TXT record: each is at most
// 255 bytes on the wire (its length is one byte), and a reader joins them back into the value.
// The library reads backslash escapes in these strings (presentation format), so a literal
// backslash is written as two.
func characterStrings(value string) []string {
	parts := []string{}
	for len(value) > 255 {
		parts = append(parts, escape(value[:255]))
		value = value[255:]
	}
	return append(parts, escape(value))
}

func escape(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

// answer builds the reply to one query; ID, question and RD are echoed by SetReply.
func (z *zone) answer(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = true
	if q.IsEdns0() != nil {
		r.SetEdns0(1232, false) // the size DNS Flag Day 2020 settled on
	}
	switch {
	case q.Opcode != dns.OpcodeQuery:
		r.Rcode = dns.RcodeNotImplemented
		return r
	case len(q.Question) != 1:
		r.Rcode = dns.RcodeFormatError
		return r
	}
	question := q.Question[0]
	values, exists := z.lookup(dns.CanonicalName(question.Name))
	if !exists {
		r.Rcode = dns.RcodeNameError
		return r
	}
	wantsTXT := question.Qtype == dns.TypeTXT || question.Qtype == dns.TypeANY
	inClass := question.Qclass == dns.ClassINET || question.Qclass == dns.ClassANY
	if wantsTXT && inClass {
		r.Answer = txtRecords(question.Name, values)
	}
	return r
}

// serveDNS answers over UDP and TCP. On UDP a reply that does not fit the client's buffer is cut
// and flagged truncated, and the client asks again over TCP on the same port.
func (z *zone) serveDNS(w dns.ResponseWriter, q *dns.Msg) {
	r := z.answer(q)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := q.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		r.Truncate(size)
	}
	if err := w.WriteMsg(r); err != nil {
		fmt.Fprintln(os.Stderr, "dnsd: write:", err)
	}
}

// dohQuery reads the DNS query of a DoH request; an error is answered with its status code.
func dohQuery(w http.ResponseWriter, req *http.Request) ([]byte, int, error) {
	if req.Method == http.MethodGet {
		// base64url without padding (RFC 8484 §4.1); padding is forgiven rather than refused.
		encoded := strings.TrimRight(req.URL.Query().Get("dns"), "=")
		if encoded == "" {
			return nil, http.StatusBadRequest, errors.New("missing dns parameter")
		}
		wire, err := base64.RawURLEncoding.DecodeString(encoded)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("dns parameter is not base64url")
		}
		return wire, 0, nil
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/dns-message" {
		return nil, http.StatusUnsupportedMediaType, errors.New("content-type must be application/dns-message")
	}
	wire, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxMessage))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("longer than a DNS message can be")
		}
		return nil, http.StatusBadRequest, err
	}
	return wire, 0, nil
}

func (z *zone) serveDoH(w http.ResponseWriter, req *http.Request) {
	wire, status, err := dohQuery(w, req)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	q := new(dns.Msg)
	if err := q.Unpack(wire); err != nil || q.Response {
		http.Error(w, "not a DNS query", http.StatusBadRequest)
		return
	}
	r := z.answer(q)
	out, err := r.Pack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/dns-message")
	// RFC 8484 §5.1: no fresher than the smallest TTL answered. A negative answer carries no SOA
	// here to say how long it may be kept, and tests publish records right after asking, so it
	// is not to be kept at all.
	maxAge := 0
	if len(r.Answer) > 0 {
		maxAge = ttl
	}
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(maxAge))
	_, _ = w.Write(out)
}

type recordSet struct {
	TXT []string `json:"txt"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// recordName reads {name} of a control request, fully qualified and lower case.
func recordName(req *http.Request) (string, bool) {
	name := dns.CanonicalName(req.PathValue("name"))
	_, ok := dns.IsDomainName(name)
	return name, ok && name != "."
}

func (z *zone) putRecords(w http.ResponseWriter, req *http.Request) {
	name, ok := recordName(req)
	if !ok {
		http.Error(w, "not a domain name", http.StatusBadRequest)
		return
	}
	var body struct {
		TXT *[]string `json:"txt"`
	}
	decoder := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&body); err != nil || body.TXT == nil {
		http.Error(w, `expected {"txt": ["value", ...]}`, http.StatusBadRequest)
		return
	}
	values := append([]string{}, *body.TXT...)
	// Refused now rather than failing every later query: the answer must fit one DNS message.
	probe := new(dns.Msg).SetQuestion(name, dns.TypeTXT)
	probe.Answer = txtRecords(name, values)
	if _, err := probe.Pack(); err != nil {
		http.Error(w, "the records do not fit in one DNS message: "+err.Error(), http.StatusBadRequest)
		return
	}
	z.mu.Lock()
	z.names[name] = values
	z.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]recordSet{name: {TXT: values}})
}

// deleteRecords removes one name, or all of them; removing what is not there is not an error, so
// a test can clean up unconditionally.
func (z *zone) deleteRecords(w http.ResponseWriter, req *http.Request) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if req.PathValue("name") == "" {
		clear(z.names)
	} else if name, ok := recordName(req); ok {
		delete(z.names, name)
	} else {
		http.Error(w, "not a domain name", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (z *zone) listRecords(w http.ResponseWriter, _ *http.Request) {
	z.mu.RLock()
	all := make(map[string]recordSet, len(z.names))
	for name, values := range z.names {
		all[name] = recordSet{TXT: values}
	}
	z.mu.RUnlock()
	writeJSON(w, http.StatusOK, all) // maps are encoded with sorted keys
}

// listenDNS opens UDP and TCP on one port (TCP is where a client retries a truncated answer). With
// port 0 the kernel picks the TCP port, and UDP may find it taken, so that is tried a few times.
func listenDNS(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 0; ; attempt++ {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		udpAddr := net.JoinHostPort(host, strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port))
		udp, err := net.ListenPacket("udp", udpAddr)
		if err == nil {
			return udp, tcp, nil
		}
		tcp.Close()
		if port != "0" || attempt == 9 {
			return nil, nil, err
		}
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dnsd:", err)
		os.Exit(1)
	}
}

func run() error {
	httpAddr := flag.String("http", "127.0.0.1:0", "address of DoH and the control API")
	dnsAddr := flag.String("dns", "127.0.0.1:0", "address of plain DNS (UDP and TCP)")
	flag.Parse()

	z := &zone{names: map[string][]string{}}

	httpListener, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	udp, tcp, err := listenDNS(*dnsAddr)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /dns-query", z.serveDoH)
	mux.HandleFunc("POST /dns-query", z.serveDoH)
	mux.HandleFunc("GET /records", z.listRecords)
	mux.HandleFunc("DELETE /records", z.deleteRecords)
	mux.HandleFunc("PUT /records/{name}", z.putRecords)
	mux.HandleFunc("DELETE /records/{name}", z.deleteRecords)
	httpServer := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	handler := dns.HandlerFunc(z.serveDNS)
	udpServer := &dns.Server{PacketConn: udp, Handler: handler}
	tcpServer := &dns.Server{Listener: tcp, Handler: handler}

	failed := make(chan error, 3)
	go func() { failed <- httpServer.Serve(httpListener) }()
	go func() { failed <- udpServer.ActivateAndServe() }()
	go func() { failed <- tcpServer.ActivateAndServe() }()

	base := "http://" + httpListener.Addr().String()
	// A struct, not a map: its fields keep this order, with "msg" first like the other servers' lines.
	ready, _ := json.Marshal(struct {
		Msg     string `json:"msg"`
		DoH     string `json:"doh"`
		Control string `json:"control"`
		UDP     string `json:"udp"`
	}{"dns listening", base + "/dns-query", base, udp.LocalAddr().String()})
	fmt.Println(string(ready))

	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	select {
	case <-stop.Done():
	case err := <-failed:
		return err
	}
	ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = udpServer.ShutdownContext(ctx)
	_ = tcpServer.ShutdownContext(ctx)
	return httpServer.Shutdown(ctx)
}
