// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol on top of
// SQLite) for local tests, so no MongoDB or Docker is needed.
//
// We embed the library instead of `go install .../cmd/ferretdb` because that
// binary panics without its generated build/version/version.txt; the embeddable
// package skips that check when the main module is not FerretDB itself.
//
// Environment:
//
//	MONGO_PORT         TCP port on 127.0.0.1 (default 27017; 0 = any free port,
//	                   the real one is printed in the ready line)
//	FERRETDB_DATA_DIR  SQLite directory (default: a temp dir removed on exit)
//	FERRETDB_LOG_LEVEL slog level: debug, info, warn, error (default)
//	GOGC               the collector's target (default here 400, see run)
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	// run returns instead of exiting so that deferred cleanup (temp dir) happens.
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("MONGO_PORT")
	if port == "" {
		port = "27017"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid MONGO_PORT %q", port)
	}

	// Error by default: FerretDB logs every failed command (even expected ones
	// like duplicate-key errors and the driver's endSessions on close) with a
	// full message dump at warn level, which would drown test output.
	level := slog.LevelError
	if s := os.Getenv("FERRETDB_LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return fmt.Errorf("invalid FERRETDB_LOG_LEVEL %q: %w", s, err)
		}
	}
	// stderr, so stdout carries only the ready line that scripts wait for.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir := os.Getenv("FERRETDB_DATA_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ferretdb-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	// The SQLite backend requires a "file:" URI naming an existing directory
	// with a trailing slash; building it via url.URL escapes odd characters.
	// synchronous=normal: in WAL mode a commit is still atomic and reaches the
	// OS before the answer, so a killed process loses nothing; only a power cut
	// could, which nothing here survives anyway. It drops the fsync of every
	// commit, a tenth of this server's CPU under the gateway suites.
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/", RawQuery: "_pragma=synchronous(normal)"}).String()

	// The suites keep two cores busy and this server's heap small: collecting
	// a quarter as often (GOGC=400 unless set) took another tenth of its CPU.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		// Loopback only: this is an unauthenticated test server.
		Listener:  ferretdb.ListenerConfig{TCP: net.JoinHostPort("127.0.0.1", port)},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// New() has already bound the socket (the kernel queues connections until
	// Run accepts them), and MongoDBURI blocks until the listener is ready, so
	// it is safe to announce readiness here; with MONGO_PORT=0 it reports the
	// port actually chosen.
	fmt.Println("ferretdb ready", f.MongoDBURI())

	return <-done
}
