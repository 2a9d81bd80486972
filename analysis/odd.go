package analysis

import (
	"fmt"
	"time"
)

// oddFrames counts what a reader of the capture should know about its
// frames that is not damage, as capinfos says it ("strict time order:
// false"): frames much earlier than one before them (captures merged
// without sorting, a clock stepped back). They were read without a word.
type oddFrames struct {
	started   bool   // a frame was seen: latest is its time or a later one
	latest    int64  // the latest time seen
	back      uint64 // frames earlier than latest by more than backStep
	backFrame uint64 // the first of them
	backBy    int64  // how much earlier it was
}

// backStep is how far back a frame's time must go to be noted: pcapng
// interfaces, and the CPUs of one host, deliver frames a little out of
// order all the time.
const backStep = int64(time.Second)

// see counts p if it is much earlier than a frame before it. The first
// frame sets the latest time: started at 0 (1970), a capture dated before
// 1970 (a negative if_tsoffset) had every frame, frame 1 first, "earlier
// than a frame before it" by up to 64 years.
func (o *oddFrames) see(p *Packet) {
	if !o.started {
		o.started, o.latest = true, p.Time
		return
	}
	if p.Time > o.latest {
		o.latest = p.Time
	} else if o.latest-p.Time > backStep {
		if o.back++; o.back == 1 {
			o.backFrame, o.backBy = p.Frame, o.latest-p.Time
		}
	}
}

// notes says what was seen, one line each (Result.Notes).
func (o *oddFrames) notes() []string {
	var out []string
	if o.back > 0 {
		out = append(out, fmt.Sprintf("%d frame%s more than 1 s earlier than a frame before %s (the first, frame %d, by %s): the capture is not in time order (merged unsorted, or a clock stepped back), so times across flows may mislead",
			o.back, plural(int(o.back)), pronoun(o.back), o.backFrame, time.Duration(o.backBy).Round(time.Millisecond)))
	}
	return out
}

func pronoun(n uint64) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
