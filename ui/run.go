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
// (one line each), or what stopped the program. When ctx is done (a
// signal) before every capture was read, it also says, for each capture,
// where reading stopped (context.Cause(ctx) names the signal).
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
	m.loader.stopBy(context.Cause(ctx))
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		return err
	}
	if ctx.Err() != nil {
		// Reading gives way soon: the loader checks between packets,
		// and a pipe's read gives way to ctx (capture.OpenContext).
		m.loader.wait()
	}
	var errs []error
	if fm, ok := final.(Model); ok {
		for _, c := range fm.loader.caps {
			c.mu.Lock()
			if c.err != nil {
				errs = append(errs, c.err)
			}
			if c.stopped != nil && ctx.Err() != nil {
				errs = append(errs, c.stopped)
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}
