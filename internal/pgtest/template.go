package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// template returns a data directory initialised once per machine and Postgres version; instances
// copy it, which is much faster than running initdb for every test. A file lock makes concurrent
// test binaries (go test runs packages in parallel) wait for the first one.
func template(bin string) (string, error) {
	root := filepath.Join(os.TempDir(), fmt.Sprintf("pgtest-template-%d", versionOf(bin)))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("template dir: %w", err)
	}
	_ = os.Chmod(root, 0o755)
	lock, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("template lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("flock template: %w", err)
	}
	data := filepath.Join(root, "data")
	if _, err := os.Stat(filepath.Join(root, "ready")); err == nil {
		return data, nil
	}
	_ = os.RemoveAll(data)
	if err := os.Mkdir(data, 0o700); err != nil {
		return "", fmt.Errorf("template data dir: %w", err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:postgres", data).CombinedOutput(); err != nil {
			return "", fmt.Errorf("chown template: %v: %s", err, out)
		}
	}
	cmd := asPostgres(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, trimOutput(out))
	}
	if err := os.WriteFile(filepath.Join(root, "ready"), nil, 0o644); err != nil {
		return "", fmt.Errorf("mark template ready: %w", err)
	}
	return data, nil
}
