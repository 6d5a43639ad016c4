package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
)

// progress draws a one-line progress bar, redrawn in place with a carriage return, with
// the rate so far and the time left at that rate:
//
//	importing [##############----------------]  4800/10000  48%   9600/s  ETA 1s
//
// A nil *progress draws nothing, so callers need not check whether the bar is on.
type progress struct {
	w     io.Writer
	label string
	total int
	done  int

	now   func() time.Time // the clock; time.Now outside tests
	start time.Time        // when the bar was made
	delay time.Duration    // draw nothing until this long after start (a short task shows no bar)
	every time.Duration    // redraw at most this often
	drawn time.Time        // when the bar was last drawn; zero before the first time
	width int              // the length of the longest line drawn, to blank it out
}

// The widths and rhythms of the bar.
const (
	barWidth      = 30
	progressEvery = 100 * time.Millisecond
	progressDelay = 300 * time.Millisecond // in auto mode: an import shorter than this shows no bar
)

// newProgress returns a bar counting total items on w, or nil when mode says to draw none:
// mode "auto" draws when w is a terminal, and only once the task has run for a moment;
// "always" draws from the start, whatever w is; "never" draws nothing.
func newProgress(w io.Writer, mode, label string, total int) (*progress, error) {
	p := &progress{w: w, label: label, total: total, now: time.Now, every: progressEvery}
	switch mode {
	case "never":
		return nil, nil
	case "always":
	case "auto":
		if !isTerminal(w) {
			return nil, nil
		}
		p.delay = progressDelay
	default:
		return nil, fmt.Errorf("-progress=%s: want auto, always or never", mode)
	}
	p.start = p.now()
	return p, nil
}

// isTerminal reports whether w is a terminal: a console or a pty. Other character devices,
// such as /dev/null, are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// add counts n more items done and redraws the bar when it is due.
func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.done += n
	now := p.now()
	if now.Sub(p.start) < p.delay {
		return
	}
	if !p.drawn.IsZero() && now.Sub(p.drawn) < p.every && p.done < p.total {
		return
	}
	p.draw(now)
}

// finish draws the bar a last time, if it was drawn at all, and ends its line.
func (p *progress) finish() {
	if p == nil || (p.drawn.IsZero() && p.now().Sub(p.start) < p.delay) {
		return
	}
	p.draw(p.now())
	fmt.Fprintln(p.w)
}

// draw writes the bar over the previous one.
func (p *progress) draw(now time.Time) {
	p.drawn = now
	filled, pct := barWidth, 100
	if p.total > 0 {
		filled = min(barWidth, p.done*barWidth/p.total)
		pct = min(100, p.done*100/p.total)
	}
	digits := len(fmt.Sprint(p.total))
	s := fmt.Sprintf("%s [%s%s] %*d/%d %3d%% %s", p.label,
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), digits, p.done, p.total, pct,
		p.pace(now.Sub(p.start)))
	pad := max(0, p.width-len(s))
	p.width = max(p.width, len(s))
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
}

// pace returns the rate of items per second over elapsed and the time left at that rate,
// "done in" the time taken once every item is done, or dashes before anything is known.
func (p *progress) pace(elapsed time.Duration) string {
	if elapsed <= 0 || p.done == 0 {
		return fmt.Sprintf("%7s/s  ETA -", "-")
	}
	rate := float64(p.done) / elapsed.Seconds()
	if p.done >= p.total {
		took := elapsed.Round(100 * time.Millisecond)
		if elapsed < time.Second {
			took = elapsed.Round(time.Millisecond)
		}
		return fmt.Sprintf("%7.0f/s  done in %v", rate, took)
	}
	left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
	return fmt.Sprintf("%7.0f/s  ETA %v", rate, left.Round(time.Second))
}
