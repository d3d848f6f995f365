//go:build !linux

package e2e

import "syscall"

// childProcAttr has nothing to add where the parent's death cannot be signalled to children.
func childProcAttr() *syscall.SysProcAttr { return nil }
