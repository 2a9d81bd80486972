package ui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/synscope/synscope/themes"
)

// ThemeNames returns the names Config.Theme accepts.
func ThemeNames() []string { return themes.Names() }

// Run runs the TUI on the terminal until the user quits or ctx is done,
// then restores the terminal. It returns the damage found in the captures
// (one line each), or what stopped the program.
func Run(ctx context.Context, cfg Config) error {
	m := New(cfg)
	// 120 frames a second, bubbletea's most: a key's frame waits for the
	// renderer's next tick, up to 8 ms instead of the default's 17, which
	// alone would break the 16 ms from key to frame. An idle screen still
	// writes nothing (TestScrollBytes).
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(120)}
	if cfg.NoColor {
		// NO_COLOR: no colour escape at all, whatever the terminal says.
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(m, opts...).Run()
	m.loader.stop()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		return err
	}
	var errs []error
	if fm, ok := final.(Model); ok {
		for _, c := range fm.loader.caps {
			c.mu.Lock()
			if c.err != nil {
				errs = append(errs, c.err)
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}
