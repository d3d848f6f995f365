//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package spooldir

import (
	"errors"
	"os"
	"syscall"
)

// canLock says directories are locked with flock here.
const canLock = true

// tryLock opens path and takes an exclusive, non-blocking flock on it. ok is false when another
// open file description holds the lock.
func tryLock(path string) (f *os.File, ok bool, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, err
	}
	return f, true, nil
}

// unlock releases the lock by closing its file; nil is a no-op.
func unlock(f *os.File) {
	if f != nil {
		f.Close()
	}
}
