//go:build linux

package capture

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DropPrivileges makes the process run as the named user (or numeric uid),
// as tcpdump -Z does once the capture device is open: the supplementary
// groups become the user's, then the group its primary group, then the
// user id (real, effective and saved), on every thread. The kernel takes
// the capabilities away with root; a process that had them without being
// root (setcap on the binary) loses them too. The sockets already open go
// on capturing. Open the live sources before, and the output files (the
// spool, -w) after, so that they belong to the user.
//
// It fails when the process may not switch: only root can become another
// user; without root, user must be the process's own (then only the
// capabilities are dropped).
func DropPrivileges(name string) error {
	u, err := lookupUser(name)
	if err != nil {
		return err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("-Z %s: user id %q, group id %q are not numbers", name, u.Uid, u.Gid)
	}
	gids := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				gids = append(gids, g)
			}
		}
	}
	switch {
	case os.Geteuid() == 0:
		// Go's Setgroups, Setgid and Setuid act on every thread of the
		// process (Linux keeps credentials per thread).
		if err := syscall.Setgroups(gids); err != nil {
			return fmt.Errorf("-Z %s: setgroups: %w", name, err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("-Z %s: setgid %d: %w", name, gid, err)
		}
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("-Z %s: setuid %d: %w", name, uid, err)
		}
	case uid != os.Getuid():
		return fmt.Errorf("-Z %s: only root can change to another user (running as uid %d)", name, os.Getuid())
	}
	if uid == 0 {
		return nil // -Z root: stay as we are
	}
	return clearCapabilities(name)
}

func lookupUser(name string) (*user.User, error) {
	u, err := user.Lookup(name)
	if err == nil {
		return u, nil
	}
	if _, nerr := strconv.Atoi(name); nerr == nil {
		if u, err2 := user.LookupId(name); err2 == nil {
			return u, nil
		}
	}
	if errors.As(err, new(user.UnknownUserError)) {
		return nil, fmt.Errorf("-Z %s: no such user", name)
	}
	return nil, fmt.Errorf("-Z %s: looking up the user: %v", name, err)
}

// clearCapabilities empties the ambient, inheritable, permitted and
// effective sets of every thread, unless they are empty already (as after
// root became another user), and checks the calling thread's.
func clearCapabilities(name string) error {
	if effective, permitted, err := capabilities(); err != nil {
		return fmt.Errorf("-Z %s: reading the capabilities: %w", name, err)
	} else if effective == 0 && permitted == 0 {
		return nil
	}
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0)
	if errno != 0 && errno != syscall.EINVAL { // EINVAL: a kernel without ambient capabilities
		return fmt.Errorf("-Z %s: clearing the ambient capabilities: %w", name, errno)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	_, _, errno = syscall.AllThreadsSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if errno != 0 {
		return fmt.Errorf("-Z %s: dropping the capabilities: %w", name, errno)
	}
	effective, permitted, err := capabilities()
	if err != nil {
		return fmt.Errorf("-Z %s: reading the capabilities: %w", name, err)
	}
	if effective != 0 || permitted != 0 {
		return fmt.Errorf("-Z %s: capabilities remain after dropping them (effective %#x, permitted %#x)", name, effective, permitted)
	}
	return nil
}

// capabilities returns the calling thread's effective and permitted sets.
func capabilities() (effective, permitted uint64, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, err
	}
	effective = uint64(data[1].Effective)<<32 | uint64(data[0].Effective)
	permitted = uint64(data[1].Permitted)<<32 | uint64(data[0].Permitted)
	return effective, permitted, nil
}
