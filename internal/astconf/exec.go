package astconf

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// exec runs an #exec command and parses its standard output in place of the directive.
func (p *parser) exec(f *fileState, command string, lineno int) error {
	if !p.opts.Exec {
		return errorf(f.name, lineno, "#exec %s is not allowed: #exec runs only when Options.Exec is set", quote(command))
	}
	name := "exec(" + command + ")"
	if err := p.enter("\x00exec\x00"+command, name, f, lineno); err != nil {
		return err
	}
	p.file.hasExec = true

	timeout := p.opts.ExecTimeout
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	if p.fsys.native() {
		cmd.Dir = f.dir
	}
	cmd.WaitDelay = time.Second // do not wait for grandchildren holding the pipes open
	stdout := &cappedBuffer{max: maxExecOutput}
	stderr := &cappedBuffer{max: 512}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	switch {
	case p.ctx.Err() != nil:
		return errors.Errorf("%s:%d: #exec %s: %w", f.name, lineno, quote(command), p.ctx.Err())
	case ctx.Err() != nil:
		return errorf(f.name, lineno, "#exec %s did not finish within %v: %w", quote(command), timeout, ctx.Err())
	case err != nil:
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return errorf(f.name, lineno, "#exec %s: %w: %s", quote(command), err, msg)
		}
		return errorf(f.name, lineno, "#exec %s: %w", quote(command), err)
	case stdout.overflow:
		return errorf(f.name, lineno, "#exec %s printed more than %d bytes", quote(command), maxExecOutput)
	}
	return p.parse(name, f.dir, "\x00exec\x00"+command, stdout.Bytes())
}

// cappedBuffer keeps the first max bytes written to it and discards the rest, so that a
// command printing too much finishes instead of blocking on a full pipe.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
