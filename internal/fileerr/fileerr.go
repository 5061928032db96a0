// Package fileerr makes the sentinel errors of signet's file decoders, so
// the model, gallery and bundle formats report damage as one family: every
// "this file is unusable" error wraps model.ErrCorrupt, and each specific
// kind (truncated, bad checksum, unknown version) also wraps the model
// package's error of the same kind. A caller that only wants to know whether
// a file is corrupt tests errors.Is(err, model.ErrCorrupt), whichever format
// it read; one that wants the format tests gallery.ErrCorrupt or
// bundle.ErrCorrupt.
package fileerr

// Sentinel is an error that is also each of its parents: errors.Is(s, p)
// holds for every parent p (and their parents), without fmt.Errorf chains
// that would repeat the parents' messages in the text.
type Sentinel struct {
	msg     string
	parents []error
}

// New returns a sentinel with message msg that wraps parents.
func New(msg string, parents ...error) error {
	return &Sentinel{msg: msg, parents: parents}
}

func (e *Sentinel) Error() string { return e.msg }

// Unwrap returns the parents, for errors.Is and errors.As.
func (e *Sentinel) Unwrap() []error { return e.parents }
