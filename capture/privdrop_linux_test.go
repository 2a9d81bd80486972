//go:build linux

package capture_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/synscope/synscope/capture"
)

// TestDropPrivileges runs in a child process (setuid changes the whole
// process): as root, the child opens a capture on lo, drops to nobody as
// -Z does, and reports its credentials and capabilities, whether the open
// socket still captures, and what opening another one says.
func TestDropPrivileges(t *testing.T) {
	if os.Getenv("SYNSCOPE_PRIVDROP_CHILD") == "1" {
		dropPrivilegesChild(t)
		return
	}
	requireRoot(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		skipOrFail(t, "no user nobody to drop to: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDropPrivileges$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "SYNSCOPE_PRIVDROP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(k, "RESULT ") {
			got[strings.TrimPrefix(k, "RESULT ")] = v
		}
	}
	t.Logf("child reports %q", got)
	if want := fmt.Sprintf("%s %s %s %s", nobody.Uid, nobody.Uid, nobody.Uid, nobody.Uid); got["Uid"] != want {
		t.Errorf("Uid %q, want %q (real, effective, saved, fs)", got["Uid"], want)
	}
	if want := fmt.Sprintf("%s %s %s %s", nobody.Gid, nobody.Gid, nobody.Gid, nobody.Gid); got["Gid"] != want {
		t.Errorf("Gid %q, want %q", got["Gid"], want)
	}
	if strings.Contains(" "+got["Groups"]+" ", " 0 ") {
		t.Errorf("Groups %q still has root's group", got["Groups"])
	}
	for _, k := range []string{"CapEff", "CapPrm", "CapAmb", "CapInh"} {
		if got[k] != "0000000000000000" {
			t.Errorf("%s %q, want none", k, got[k])
		}
	}
	if got["threads"] == "" || got["threads_with_caps_or_root"] != "0" {
		t.Errorf("threads %q, of which %q still root or capable", got["threads"], got["threads_with_caps_or_root"])
	}
	if got["captured_after_drop"] == "" || got["captured_after_drop"] == "0" {
		t.Errorf("the socket opened before the drop captured %q packets after it", got["captured_after_drop"])
	}
	bin, _ := os.Executable()
	want := fmt.Sprintf("capturing on lo needs CAP_NET_RAW: run as root, or setcap cap_net_raw,cap_net_admin+eip %s", bin)
	if got["reopen"] != want || got["reopen_is_permission"] != "true" {
		t.Errorf("opening lo after the drop: %q (ErrPermission: %s), want %q", got["reopen"], got["reopen_is_permission"], want)
	}
}

func dropPrivilegesChild(t *testing.T) {
	_, port := listen(t, "127.0.0.1:0")
	src := openLive(t, capture.LiveOptions{Interface: "lo", Filter: compile(t, "lo", fmt.Sprintf("tcp port %d", port), 0)})
	if err := capture.DropPrivileges("nobody"); err != nil {
		t.Fatalf("DropPrivileges: %v", err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			switch k {
			case "Uid", "Gid", "Groups", "CapEff", "CapPrm", "CapAmb", "CapInh":
				fmt.Printf("RESULT %s=%s\n", k, strings.Join(strings.Fields(v), " "))
			}
		}
	}
	// Every thread, not just the main one.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	bad := 0
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		if strings.Contains(s, "\nUid:\t0\t") || strings.Contains(s, "\nUid:\t0 ") || !strings.Contains(s, "\nCapEff:\t0000000000000000") {
			bad++
		}
	}
	fmt.Printf("RESULT threads=%d\nRESULT threads_with_caps_or_root=%d\n", len(tasks), bad)
	// The socket opened as root still works.
	c := collect(src)
	exchange(t, fmt.Sprintf("127.0.0.1:%d", port), 1000)
	deadline := time.Now().Add(5 * time.Second)
	for c.n.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("RESULT captured_after_drop=%d\n", len(c.stop(t)))
	_, err = capture.OpenLive(capture.LiveOptions{Interface: "lo"})
	fmt.Printf("RESULT reopen=%v\nRESULT reopen_is_permission=%v\n", err, errors.Is(err, capture.ErrPermission))
}

// TestDropPrivilegesUnknownUser: -Z with a user that does not exist is one
// line naming the flag, before anything changes (so it runs in-process, as
// any user). It once read "-Z x: no such user: user: unknown user x".
func TestDropPrivilegesUnknownUser(t *testing.T) {
	const name = "synscope-no-such-user"
	if _, err := user.Lookup(name); err == nil {
		t.Skipf("a user %s exists here", name)
	}
	if err := capture.DropPrivileges(name); err == nil || err.Error() != "-Z "+name+": no such user" {
		t.Errorf("DropPrivileges(%q): %v, want \"-Z %s: no such user\"", name, err, name)
	}
}
