package front

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/goproc/goproc/kernel/wire"
)

// Command is `goproc kernel CONNECTION_FILE`: it serves the connection
// described by the file until shutdown and returns the exit status.
func Command(args []string, newEngine EngineFactory, version string, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: goproc kernel CONNECTION_FILE")
		if len(args) == 1 {
			return 0
		}
		return 2
	}
	conn, err := wire.ReadConnectionFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "goproc kernel: %v\n", err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("kernel", "goproc")
	if err := Serve(context.Background(), conn, newEngine, Options{ImplementationVersion: version, Log: log,
		WatchParent: os.Getenv("JPY_PARENT_PID") != ""}); err != nil {
		fmt.Fprintf(stderr, "goproc kernel: %v\n", err)
		return 1
	}
	return 0
}
