package spooldir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateLockedOwnerOnlyAndRemove(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nested", "tmp") // created on demand
	d, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(d.Path()), Prefix) || !filepath.IsAbs(d.Path()) {
		t.Fatalf("path %s", d.Path())
	}
	st, err := os.Stat(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Fatalf("permissions %v, want owner-only", perm)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if removed, err := Sweep(root); err != nil || len(removed) != 0 {
		t.Fatalf("sweep removed a live directory: %v %v", removed, err)
	}
	path := d.Path()
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal("second Remove must be a no-op:", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("directory still there: %v", err)
	}
}

func TestSweepRemovesOnlyUnlockedSpoolDirectories(t *testing.T) {
	root := t.TempDir()
	live, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	// A crashed run leaves a directory nobody locks.
	orphan := filepath.Join(root, Prefix+"0f0f0f0f-dead-beef-0000-000000000000")
	if err := os.MkdirAll(filepath.Join(orphan, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "kafka_t_0_1.CSV.gz"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "unrelated-dir")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	removed, err := Sweep(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != orphan {
		t.Fatalf("removed %v, want only %s", removed, orphan)
	}
	for _, p := range []string{live.Path(), other} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s must survive the sweep: %v", p, err)
		}
	}
	if removed, err := Sweep(filepath.Join(root, "missing")); err != nil || removed != nil {
		t.Fatalf("missing root: %v %v", removed, err)
	}
}

// A Sweep running between Create's mkdir and its lock removes the new, still unlocked
// directory; Create must take a new name rather than fail the task (a task failed with "locking
// spool directory: ... no such file or directory" when two tasks of a connector started at once).
func TestCreateSurvivesASweepBeforeItLocks(t *testing.T) {
	root := t.TempDir()
	swept := 0
	afterMkdir = func(path string) {
		if swept == 0 {
			if removed, err := Sweep(root); err != nil || len(removed) != 1 || removed[0] != path {
				t.Errorf("sweep removed %v (%v), want %s", removed, err, path)
			}
		}
		swept++
	}
	defer func() { afterMkdir = nil }()
	d, err := Create(root)
	if err != nil {
		t.Fatalf("Create after a concurrent sweep: %v", err)
	}
	defer d.Remove()
	if swept != 2 {
		t.Errorf("Create made %d directories, want 2", swept)
	}
	if _, err := os.Stat(d.Path()); err != nil {
		t.Fatal(err)
	}
	if removed, err := Sweep(root); err != nil || len(removed) != 0 {
		t.Fatalf("the directory Create returned is not locked: sweep removed %v (%v)", removed, err)
	}
}
