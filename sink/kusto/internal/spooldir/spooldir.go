// Package spooldir creates, locks and removes the directories the Kusto sink spools files in,
// and sweeps the ones a crashed process left behind.
//
// A directory is named <prefix><uuid> and is locked (flock on the directory itself) for as long
// as it is in use; the lock dies with the process. Sweep removes only directories whose lock it
// can take, so directories of live tasks, in this process or another one sharing the temporary
// directory, are never touched. On platforms without flock, directories are not locked and Sweep
// removes nothing.
package spooldir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// Prefix is the name prefix of every spool directory.
const Prefix = "kusto-sink-connector-"

// Dir is a locked spool directory.
type Dir struct {
	path string
	lock *os.File // holds the flock; nil where locking is unavailable
}

// Create makes a new locked directory <root>/<Prefix><uuid> with owner-only permissions,
// creating root if needed.
func Create(root string) (*Dir, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving temporary directory %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	// A concurrent Sweep (another task's Start, in this process or another one) may lock and
	// remove a directory between our mkdir and our lock. Then our open finds nothing, our
	// flock finds the sweep's lock, or the lock is on a removed directory, which same()
	// detects; in every case we try a new name.
	for attempt := 0; attempt < 5; attempt++ {
		path := filepath.Join(abs, Prefix+uuid.NewString())
		if err := os.Mkdir(path, 0o700); err != nil {
			return nil, fmt.Errorf("creating spool directory: %w", err)
		}
		if !canLock {
			return &Dir{path: path}, nil
		}
		if afterMkdir != nil {
			afterMkdir(path)
		}
		lock, ok, err := tryLock(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			_ = os.Remove(path)
			return nil, fmt.Errorf("locking spool directory: %w", err)
		}
		if !ok || !same(path, lock) {
			unlock(lock)
			continue
		}
		return &Dir{path: path, lock: lock}, nil
	}
	return nil, errors.New("creating spool directory: lost it to concurrent sweeps five times")
}

// afterMkdir, when set by a test, runs between Create's mkdir and its lock: where a concurrent
// Sweep can strike.
var afterMkdir func(path string)

// Path returns the directory's absolute path.
func (d *Dir) Path() string { return d.path }

// Remove deletes the directory with everything in it and releases its lock. It is idempotent.
func (d *Dir) Remove() error {
	if d == nil || d.path == "" {
		return nil
	}
	err := os.RemoveAll(d.path)
	unlock(d.lock)
	d.lock, d.path = nil, ""
	if err != nil {
		return fmt.Errorf("removing spool directory: %w", err)
	}
	return nil
}

// Sweep removes the spool directories under root that no live process holds, and returns the
// paths it removed. A missing root is not an error.
func Sweep(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), Prefix) {
			continue
		}
		path := filepath.Join(root, e.Name())
		lock, ok, err := tryLock(path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !ok {
			continue // in use
		}
		if lock == nil || !same(path, lock) {
			unlock(lock)
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, path)
		}
		unlock(lock)
	}
	return removed, errors.Join(errs...)
}

// same reports whether path still names the directory the lock file was opened on.
func same(path string, lock *os.File) bool {
	if lock == nil {
		return true
	}
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := lock.Stat()
	return err == nil && os.SameFile(a, b)
}
