package gossip

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// libLogger returns a standard-library logger for serf and memberlist
// that forwards their lines to l at debug level: they are chatty, and
// what matters to an operator (joins, failures, leaves) this package logs
// itself at info level. The library's own level ("[WARN]") is kept as the
// attribute lib_level. One line is promoted to a warning: gossip this
// member could not decrypt, which is what a peer with the wrong key
// looks like from inside the cluster.
func libLogger(l *slog.Logger) *log.Logger {
	return log.New(libLogWriter{l}, "", 0)
}

type libLogWriter struct{ l *slog.Logger }

func (w libLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.Contains(line, "no installed keys could decrypt") {
		w.l.Warn("rejected gossip that no key in our keyring decrypts (a peer with the wrong key?)", "detail", line)
		return len(p), nil
	}
	if !w.l.Enabled(context.Background(), slog.LevelDebug) {
		return len(p), nil
	}
	var level, lib string
	if strings.HasPrefix(line, "[") {
		if i := strings.IndexByte(line, ']'); i > 0 {
			level, line = line[1:i], strings.TrimSpace(line[i+1:])
		}
	}
	for _, name := range []string{"memberlist", "serf"} {
		if rest, ok := strings.CutPrefix(line, name+": "); ok {
			lib, line = name, rest
			break
		}
	}
	w.l.Debug(line, "lib", lib, "lib_level", level)
	return len(p), nil
}
