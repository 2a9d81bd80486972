package analysis

import (
	"encoding/hex"
	"io"
	"math"
	"runtime"
	"time"
)

// Record is the JSON record of one flow: the contract's NDJSON line
// (shared/spec/tcp-analysis.md, "The JSON record"). Keys may be added,
// never renamed.
type Record struct {
	Capture string `json:"capture"`
	// InputEndsEarly is present on every record of a capture that could
	// be read only up to damage, or until a signal stopped the reading:
	// the flows may lack what came after (Result.EndsEarly).
	InputEndsEarly   *RecordEnd      `json:"input_ends_early,omitempty"`
	ID               int             `json:"id"`
	Client           string          `json:"client"`
	Server           string          `json:"server"`
	DirectionGuessed bool            `json:"direction_guessed"`
	FirstFrame       uint64          `json:"first_frame"`
	LastFrame        uint64          `json:"last_frame"`
	Packets          int             `json:"packets"`
	Bytes            int64           `json:"bytes"`
	Start            string          `json:"start"`
	DurationS        float64         `json:"duration_s"`
	Status           string          `json:"status"`
	ConnState        string          `json:"conn_state"`
	History          string          `json:"history"`
	VLAN             uint16          `json:"vlan,omitempty"`
	Tunnel           string          `json:"tunnel,omitempty"`
	Handshake        RecordHandshake `json:"handshake"`
	Findings         []RecordFinding `json:"findings"`
	// Path is present when several captures are read as points of one
	// path: the connection's id, the same at every point.
	Path *PathRecord `json:"path,omitempty"`
	// FindingCounts is present when a code fired more often than the
	// findings list keeps.
	FindingCounts map[string]uint32 `json:"finding_counts,omitempty"`
}

// RecordEnd is the "input_ends_early" object of the JSON record: the
// last frame read, and why reading ended there.
type RecordEnd struct {
	AfterFrame uint64 `json:"after_frame"`
	Why        string `json:"why"`
}

// EndsEarly says where reading the capture ended before its end, and why
// (damage, or a signal), nil when it was read to the end. A script
// reading the records saw only exit status 1 and a line on stderr, while a
// flow cut by the damage got a definite verdict ("unanswered" for a SYN
// whose SYN-ACK was the damaged frame).
func (res *Result) EndsEarly() *RecordEnd {
	why := res.Damage
	if why == "" {
		why = res.Stopped
	}
	if why == "" {
		return nil
	}
	return &RecordEnd{AfterFrame: res.Frames, Why: why}
}

// RecordHandshake is the "handshake" object of the JSON record.
type RecordHandshake struct {
	Status        string         `json:"status"`
	SynFrame      uint64         `json:"syn_frame,omitempty"`
	SynAckFrame   uint64         `json:"synack_frame,omitempty"`
	AckFrame      uint64         `json:"ack_frame,omitempty"`
	ClientISN     *uint32        `json:"client_isn,omitempty"`
	ServerISN     *uint32        `json:"server_isn,omitempty"`
	SynPayload    *int           `json:"syn_payload,omitempty"`
	SynAckPayload *int           `json:"synack_payload,omitempty"`
	ExpectedAck   *uint32        `json:"expected_ack,omitempty"`
	ActualAck     *uint32        `json:"actual_ack,omitempty"`
	IRTTms        *float64       `json:"irtt_ms,omitempty"`
	ClientOptions *RecordOptions `json:"client_options,omitempty"`
	ServerOptions *RecordOptions `json:"server_options,omitempty"`
}

// RecordOptions are the options one side announced in its SYN or SYN-ACK.
type RecordOptions struct {
	MSS           *uint16 `json:"mss,omitempty"`
	WScale        *uint8  `json:"wscale,omitempty"`
	SACKPermitted bool    `json:"sack_permitted,omitempty"`
	Timestamps    bool    `json:"timestamps,omitempty"`
	FastOpen      bool    `json:"fast_open,omitempty"`
	// Truncated says the capture's snap length cut the options short: an
	// option missing here may have been sent.
	Truncated bool `json:"truncated,omitempty"`
}

// RecordFinding is one entry of the record's "findings".
type RecordFinding struct {
	Code         string `json:"code"`
	Severity     string `json:"severity"`
	Frame        uint64 `json:"frame"`
	RelatedFrame uint64 `json:"related_frame,omitempty"`
	Message      string `json:"message"`
	// Bytes and Data are the payload of a SYN or SYN-ACK that carries
	// one: its length, and its first bytes in hex.
	Bytes int    `json:"bytes,omitempty"`
	Data  string `json:"data,omitempty"`
	// Capture and RelatedCapture name the capture points of a path
	// finding's frame and related frame; Seconds and Hops are its numbers.
	Capture        string  `json:"capture,omitempty"`
	RelatedCapture string  `json:"related_capture,omitempty"`
	Seconds        float64 `json:"seconds,omitempty"`
	Hops           int     `json:"hops,omitempty"`
	// Was and Offset are what a path.payload_changed's bytes were at the
	// related capture, in hex, and where in the payload they start (Data
	// is what they became; Bytes how many differ).
	Was    string `json:"was,omitempty"`
	Offset *int   `json:"offset,omitempty"`
	// MTU and ICMPFrame are the next hop's MTU and the frame of the ICMP
	// "fragmentation needed" or ICMPv6 "packet too big" that refused a
	// path.too_big's or path.dropped's segment, where the capture holds it.
	MTU       int    `json:"mtu,omitempty"`
	ICMPFrame uint64 `json:"icmp_frame,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// Record returns the flow's JSON record; capture names the capture.
func (f *Flow) Record(capture string) Record {
	h := &f.Handshake
	r := Record{
		Capture:          capture,
		ID:               f.ID,
		Client:           f.Client().String(),
		Server:           f.Server().String(),
		DirectionGuessed: f.DirectionGuessed,
		FirstFrame:       f.FirstFrame,
		LastFrame:        f.LastFrame,
		Packets:          f.Packets,
		Bytes:            f.Bytes,
		Start:            time.Unix(0, f.Start).UTC().Format(time.RFC3339Nano),
		DurationS:        math.Round(float64(f.End-f.Start)/1e3) / 1e6,
		Status:           f.Status.String(),
		ConnState:        f.ConnState(),
		History:          f.History(),
		VLAN:             f.VLAN,
		Tunnel:           f.Tunnel.String(),
		Findings:         []RecordFinding{},
	}
	rh := &r.Handshake
	rh.Status = h.Status.String()
	if h.HaveSyn {
		rh.SynFrame = h.SynFrame
		rh.ClientISN = ptr(h.ClientISN)
		rh.SynPayload = ptr(int(h.SynPayload))
		rh.ClientOptions = recordOptions(h.Client)
	}
	if h.HaveSynAck {
		rh.SynAckFrame = h.SynAckFrame
		rh.ServerISN = ptr(h.ServerISN)
		rh.SynAckPayload = ptr(int(h.SynAckPayload))
		rh.ServerOptions = recordOptions(h.Server)
	}
	if h.AckChecked {
		rh.AckFrame = h.AckFrame
		rh.ExpectedAck = ptr(h.ExpectedAck)
		rh.ActualAck = ptr(h.ActualAck)
	}
	if ns, ok := h.IRTT(); ok {
		rh.IRTTms = ptr(math.Round(float64(ns)/1e3) / 1e3)
	}
	for _, fi := range f.Findings {
		rf := RecordFinding{
			Code:         fi.Code.String(),
			Severity:     fi.Severity().String(),
			Frame:        fi.Frame,
			RelatedFrame: fi.RelatedFrame,
			Message:      f.Message(fi),
		}
		switch fi.Code {
		case CodeSynAckPayload:
			rf.Bytes, rf.Data = int(h.SynAckPayload), hex.EncodeToString(h.SynAckBytes())
		case CodeSynPayload, CodeTFO:
			rf.Bytes, rf.Data = int(h.SynPayload), hex.EncodeToString(h.SynBytes())
		}
		r.Findings = append(r.Findings, rf)
	}
	for c, n := range f.overCounts() {
		if n > maxFindingsPerCode {
			if r.FindingCounts == nil {
				r.FindingCounts = make(map[string]uint32)
			}
			r.FindingCounts[Code(c).String()] = n
		}
	}
	return r
}

func recordOptions(o SideOptions) *RecordOptions {
	r := &RecordOptions{SACKPermitted: o.SACKPerm, Timestamps: o.HasTS, FastOpen: o.TFO, Truncated: o.Cut}
	if o.HasMSS {
		r.MSS = ptr(o.MSS)
	}
	if o.HasWScale {
		r.WScale = ptr(o.WScale)
	}
	return r
}

// WriteJSON writes one JSON record per flow, one per line, in id order:
// the bytes encoding/json writes for each Flow.Record with HTML escaping
// off, made without reflection and written 64 KB at a time. With two cores
// or more and many flows, a second goroutine formats every other run of
// flows meanwhile (writeJSONPaired).
func (res *Result) WriteJSON(w io.Writer) error {
	if len(res.Flows) >= 4*jsonRun && runtime.GOMAXPROCS(0) >= 2 {
		return res.writeJSONPaired(w)
	}
	const chunk = 64 << 10
	buf := make([]byte, 0, chunk+4096)
	head := jsonHead(res.Name, res.EndsEarly())
	for _, f := range res.Flows {
		buf = f.appendJSON(buf, head)
		if len(buf) >= chunk {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		_, err := w.Write(buf)
		return err
	}
	return nil
}

// jsonRun is the number of flows formatted at a time by writeJSONPaired:
// about 90 KB of records, in buffers of jsonRunBuf that seldom grow.
const (
	jsonRun    = 128
	jsonRunBuf = 128 << 10
)

// writeJSONPaired is WriteJSON on two goroutines: runs of jsonRun flows
// are formatted alternately by this goroutine and a helper, and written
// in order. Formatting a record only reads its flow, which no longer
// changes after Finish. On 40,000 flows this takes the records' 25 ms to
// about 15.
func (res *Result) writeJSONPaired(w io.Writer) error {
	runs := (len(res.Flows) + jsonRun - 1) / jsonRun
	// A head each, as a head keeps the last date it wrote.
	heads := [2]*recordHead{jsonHead(res.Name, res.EndsEarly()), jsonHead(res.Name, res.EndsEarly())}
	format := func(buf []byte, run int) []byte {
		buf = buf[:0]
		head := heads[run%2]
		for _, f := range res.Flows[run*jsonRun : min((run+1)*jsonRun, len(res.Flows))] {
			buf = f.appendJSON(buf, head)
		}
		return buf
	}
	// The helper formats the odd runs; two buffers go back and forth.
	done := make(chan []byte, 2)
	free := make(chan []byte, 2)
	free <- make([]byte, 0, jsonRunBuf)
	free <- make([]byte, 0, jsonRunBuf)
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for run := 1; run < runs; run += 2 {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			done <- format(buf, run)
		}
	}()
	defer close(stop)
	own := make([]byte, 0, jsonRunBuf)
	for run := 0; run < runs; run++ {
		var buf []byte
		if run%2 == 0 {
			own = format(own, run)
			buf = own
		} else {
			buf = <-done
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if run%2 == 1 {
			free <- buf
		}
	}
	return nil
}

// ConnState returns Zeek's conn_state for the flow.
func (f *Flow) ConnState() string { return f.zeek.connState() }

// History returns Zeek's history string for the flow.
func (f *Flow) History() string { return f.zeek.history() }
