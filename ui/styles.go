package ui

import (
	"charm.land/lipgloss/v2"

	"github.com/synscope/synscope/analysis"
	"github.com/synscope/synscope/themes"
)

// statusStyle is the style of a flow status.
func statusStyle(st *themes.Styles, s analysis.Status) lipgloss.Style {
	switch s {
	case analysis.StatusInvalid:
		return st.Status.Invalid
	case analysis.StatusWarning:
		return st.Status.Warning
	case analysis.StatusPartial:
		return st.Status.Partial
	}
	return st.Status.OK
}

// severityStyle is the style of a finding's severity.
func severityStyle(st *themes.Styles, s analysis.Severity) lipgloss.Style {
	switch s {
	case analysis.Error:
		return st.Status.Invalid
	case analysis.Warning:
		return st.Status.Warning
	}
	return st.Status.Info
}

// hsStyle is the style of a handshake status.
func hsStyle(st *themes.Styles, h analysis.HandshakeStatus) lipgloss.Style {
	switch h {
	case analysis.HSComplete:
		return st.Status.OK
	case analysis.HSInvalid, analysis.HSRefused, analysis.HSUnanswered:
		return st.Status.Invalid
	case analysis.HSIncomplete:
		return st.Status.Warning
	}
	return st.Status.Partial
}
