//go:build !linux && !darwin

package capture

import (
	"errors"
	"os"
)

// mapWindow is the mapping's window where there is one.
const mapWindow = 4 << 20

// mapSource is not available here: MapInput always declines. Its
// window is always empty.
type mapSource struct {
	pos int
}

func newMapSource(*os.File, int64) (*mapSource, error) {
	return nil, errors.New("no memory mapping on this system")
}

func (*mapSource) Peek(int) ([]byte, error) { return nil, errors.New("not mapped") }
func (*mapSource) Discard(int) (int, error) { return 0, errors.New("not mapped") }
func (*mapSource) Read([]byte) (int, error) { return 0, errors.New("not mapped") }
func (*mapSource) Size() int                { return 0 }
func (*mapSource) close()                   {}
func (*mapSource) contains(uintptr) bool    { return false }
func (*mapSource) available() []byte        { return nil }
func (*mapSource) moved()                   {}
