// Package pgtest starts real, throw-away Postgres servers for tests: initdb once per machine into a
// cached template, then a copy per instance, started as a child process on a free loopback port with
// wal_level=logical. No mocks: tests talk to the same server binaries production uses.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/realtimeops/realtime/internal/testutil"
)

// Instance is one running Postgres server owned by a test.
type Instance struct {
	Host string
	Port int
	// Dir holds the data directory and the log file.
	Dir string

	bin     string
	durable bool // fsync and full_page_writes on, as a stock server
	cmd     *exec.Cmd
	done    chan struct{}
	tb      testing.TB
}

// Start initialises and starts a Postgres server for tb; it is stopped in tb.Cleanup.
// A missing Postgres installation fails the test (it never skips): `make test` installs it.
func Start(tb testing.TB) *Instance {
	tb.Helper()
	return StartWith(tb, Options{})
}

// Options change the server's settings for tests that need them.
type Options struct {
	// Durable keeps every setting at Postgres' defaults (fsync, full_page_writes): slower, but
	// commits take as long as on a user's server, which widens the window between a commit
	// reaching the walsender and becoming visible to new snapshots.
	Durable bool
}

// StartWith is Start with options.
func StartWith(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	inst, err := start(tb, opts)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(inst.Stop)
	return inst
}

func start(tb testing.TB, opts Options) (*Instance, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	// The server runs as the postgres user when we are root; it creates its socket and lock here.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, fmt.Errorf("chmod temp dir: %w", err)
	}
	if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy template: %v: %s", err, out)
	}
	port, err := testutil.FreePort("")
	if err != nil {
		return nil, err
	}
	inst := &Instance{Host: "127.0.0.1", Port: port, Dir: dir, bin: bin, durable: opts.Durable, tb: tb}
	if err := inst.launch(); err != nil {
		return nil, err
	}
	return inst, nil
}

// launch starts the postmaster on the instance's existing data directory and waits until it accepts
// connections.
func (i *Instance) launch() error {
	args := []string{
		"-D", filepath.Join(i.Dir, "data"), "-p", strconv.Itoa(i.Port), "-k", i.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "wal_level=logical",
		"-c", "max_replication_slots=32", "-c", "max_wal_senders=32", "-c", "max_connections=200",
		"-c", "shared_buffers=32MB", "-c", "wal_sender_timeout=10s",
	}
	if !i.durable {
		// fsync=off only skips the disk flush. synchronous_commit keeps its default (on), as on
		// users' servers: the commit is sent to walsenders before it is visible to new snapshots,
		// and code that reads the table after a streamed commit must be tested in that window.
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	logf, err := os.OpenFile(filepath.Join(i.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	cmd := asPostgres(filepath.Join(i.bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	i.cmd, i.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(i.done) }()
	return i.waitReady(30 * time.Second)
}

func (i *Instance) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, i.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-i.done:
			return fmt.Errorf("postgres exited during startup; log:\n%s", i.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %v; log:\n%s", timeout, err, i.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DSN returns a connection string for database db as the superuser postgres.
func (i *Instance) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", i.Host, i.Port, db)
}

// Log returns the server log so far (for failure messages).
func (i *Instance) Log() string {
	b, _ := os.ReadFile(filepath.Join(i.Dir, "postgres.log"))
	return string(b)
}

// CreateDatabase creates a fresh database and returns its name.
func (i *Instance) CreateDatabase(tb testing.TB, name string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, i.DSN("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return name
}

// Kill stops the server abruptly (SIGKILL to the postmaster and every backend), as a crash would.
func (i *Instance) Kill() {
	if i.cmd == nil || i.cmd.Process == nil {
		return
	}
	i.signalServer(syscall.SIGKILL, 10*time.Second)
	_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
	<-i.done
	i.cmd = nil
}

// Restart starts the server again on the same port and data directory after Kill or Stop.
func (i *Instance) Restart() error {
	if i.cmd != nil {
		i.stop()
	}
	// A killed postmaster leaves its pid file; postgres refuses to start while it names a live pid,
	// and the process group is gone, so removing it is safe.
	_ = os.Remove(filepath.Join(i.Dir, "data", "postmaster.pid"))
	_ = os.Remove(filepath.Join(i.Dir, fmt.Sprintf(".s.PGSQL.%d.lock", i.Port)))
	_ = os.Remove(filepath.Join(i.Dir, fmt.Sprintf(".s.PGSQL.%d", i.Port)))
	return i.launch()
}

// Stop shuts the server down (fast mode) and removes its directory.
func (i *Instance) Stop() {
	i.stop()
	_ = os.RemoveAll(i.Dir)
}

func (i *Instance) stop() {
	if i.cmd == nil || i.cmd.Process == nil {
		return
	}
	// SIGINT to the postmaster is a fast shutdown; anything still alive after it is killed.
	if !i.signalServer(syscall.SIGINT, 10*time.Second) {
		i.signalServer(syscall.SIGKILL, 5*time.Second)
	}
	_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
	<-i.done
	i.cmd = nil
}

// BinDir finds the Postgres server binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(a, b int) bool { return versionOf(dirs[a]) < versionOf(dirs[b]) })
	for k := len(dirs) - 1; k >= 0; k-- {
		if _, err := os.Stat(filepath.Join(dirs[k], "postgres")); err == nil {
			return dirs[k], nil
		}
	}
	return "", errors.New("no Postgres server found (set PG_BIN or run `make pg-install`, which apt-installs postgresql)")
}

func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// asPostgres runs a server binary as the postgres OS user when we are root (postgres refuses root).
func asPostgres(path string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

func trimOutput(b []byte) string { return strings.TrimSpace(string(b)) }
