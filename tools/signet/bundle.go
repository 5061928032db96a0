package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/gallery/bundle"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/model/sign"
)

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// maxReportFile bounds an enrolment report read by bundle -report.
const maxReportFile = 16 << 20

// readReport reads the JSON that signet enroll -json or signet report -json
// printed, or a bare gallery.Report, and summarises it.
func readReport(path string) (bundle.Enrolment, error) {
	f, err := os.Open(path)
	if err != nil {
		return bundle.Enrolment{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxReportFile+1))
	if err != nil {
		return bundle.Enrolment{}, err
	}
	if len(b) > maxReportFile {
		return bundle.Enrolment{}, fmt.Errorf("%s: over %d bytes, not an enrolment report", path, maxReportFile)
	}
	var wrapped struct {
		Committed bool            `json:"committed"`
		Forced    bool            `json:"forced"`
		ClassID   uint64          `json:"class_id"`
		Report    *gallery.Report `json:"report"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return bundle.Enrolment{}, fmt.Errorf("%s: not an enrolment report: %v", path, err)
	}
	r := wrapped.Report
	if r == nil {
		r = new(gallery.Report)
		if err := json.Unmarshal(b, r); err != nil {
			return bundle.Enrolment{}, fmt.Errorf("%s: not an enrolment report: %v", path, err)
		}
	}
	if r.Label == "" {
		return bundle.Enrolment{}, fmt.Errorf("%s: not an enrolment report (expected the output of signet enroll -json or signet report -json)", path)
	}
	en := bundle.EnrolmentOf(r, wrapped.Committed, wrapped.Forced)
	if en.ClassID == 0 {
		en.ClassID = wrapped.ClassID
	}
	return en, nil
}

// ---- bundle ----

type bundleResult struct {
	Bundle   string          `json:"bundle"`
	Size     int             `json:"size"`
	SHA256   string          `json:"sha256"`
	Manifest bundle.Manifest `json:"manifest"`
}

func cmdBundle(e *env, args []string) error {
	fs := newFlagSet(e, "bundle")
	modelPath := fs.String("model", "", "model file (.sgn), required")
	galPath := fs.String("gallery", "", "gallery file (.gal) embedded by that model, required")
	keyPath := fs.String("key", "", "private key file (from signet keygen), required")
	out := fs.String("o", "", "bundle file to write, required")
	reports := listVar(fs, "report", "approved enrolment report (the JSON of signet enroll -json or report -json); repeat for several")
	note := fs.String("note", "", "free text for the manifest (release notes, ticket)")
	force := fs.Bool("force", false, "replace an existing bundle file")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "model", "gallery", "key", "o"); err != nil {
		return err
	}
	priv, err := readPrivateKey(e, *keyPath)
	if err != nil {
		return err
	}
	mdata, err := os.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	gdata, err := os.ReadFile(*galPath)
	if err != nil {
		return err
	}
	var ens []bundle.Enrolment
	for _, r := range *reports {
		en, err := readReport(r)
		if err != nil {
			return err
		}
		ens = append(ens, en)
	}
	data, man, err := bundle.Create(mdata, gdata, priv, bundle.CreateOptions{Note: *note, Enrolments: ens})
	if err != nil {
		return err
	}
	if err := bundle.WriteFile(*out, data, *force); err != nil {
		return err
	}
	res := bundleResult{Bundle: *out, Size: len(data), SHA256: hexSHA256(data), Manifest: *man}
	if *jsonOut {
		return printJSON(e, res)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d bytes, SHA-256 %s, signed by key %s\n\n", textsafe.Cell(*out), res.Size, res.SHA256[:16], man.KeyID)
	return printManifest(e, man, nil)
}

// printManifest shows a manifest; v, when not nil, adds who signed each part.
func printManifest(e *env, m *bundle.Manifest, v *releaseKeys) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	head := "PART\tSHA-256\tDETAILS"
	if v != nil {
		head = "PART\tSIGNED BY\tSHA-256\tDETAILS"
	}
	fmt.Fprintln(tw, head)
	row := func(part, key, sum, details string) {
		if v != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", part, key, short(sum), details)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", part, short(sum), details)
		}
	}
	var mk, gk, nk string
	if v != nil {
		mk, gk, nk = v.Model, v.Gallery, v.Manifest
	}
	row("model", mk, m.Model.SHA256, fmt.Sprintf("%s, fingerprint %s, %d bytes", textsafe.Cell(m.Model.Name), short(m.Model.Fingerprint), m.Model.Size))
	g := m.Gallery
	row("gallery", gk, g.SHA256, fmt.Sprintf("%d classes (%d calibrated), %d exemplars, version %d, mode %s, threshold %.4f",
		g.Classes, g.CalibratedClasses, g.Exemplars, g.Version, textsafe.Cell(g.Mode), g.Threshold))
	row("manifest", nk, v.manifestSum(), "created "+m.Created.Format("2006-01-02 15:04:05Z")+", key "+textsafe.Cell(m.KeyID))
	if err := tw.Flush(); err != nil {
		return err
	}
	if m.Note != "" {
		fmt.Fprintf(e.stdout, "note: %s\n", textsafe.Escape(m.Note))
	}
	if len(m.Enrolments) == 0 {
		fmt.Fprintln(e.stdout, "\nno enrolment reports in the manifest")
		return nil
	}
	fmt.Fprintln(e.stdout)
	tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENROLMENT\tCOMMITTED\tACCURACY BEFORE\tAFTER\tNEGATIVE FLIP RATE\tFLIPS/SAMPLES\tOVER BUDGET")
	for _, en := range m.Enrolments {
		committed := yesNo(en.Committed)
		if en.Forced {
			committed += " (forced)"
		}
		before, after, rate := "-", "-", "-" // no validation samples: nothing was measured
		if en.ValidationSamples > 0 {
			before, after = fmt.Sprintf("%.1f%%", 100*en.AccuracyBefore), fmt.Sprintf("%.1f%%", 100*en.AccuracyAfter)
			rate = fmt.Sprintf("%.2f%%", 100*en.NegativeFlipRate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", textsafe.Cell(en.Label), committed,
			before, after, rate, en.NegativeFlips, en.ValidationSamples, yesNo(en.OverBudget))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// short cuts a hex digest for a table; the JSON has it whole.
func short(s string) string {
	if s == "" {
		return "-"
	}
	if len(s) > 16 {
		return s[:16]
	}
	return textsafe.Cell(s)
}

// releaseKeys are the IDs of the keys that signed each part.
type releaseKeys struct {
	Manifest string `json:"manifest"`
	Model    string `json:"model"`
	Gallery  string `json:"gallery"`
	sum      string
}

func (k *releaseKeys) manifestSum() string {
	if k == nil {
		return ""
	}
	return k.sum
}

func keysOf(ms, mds, gs *sign.Signature) *releaseKeys {
	return &releaseKeys{Manifest: ms.KeyID.String(), Model: mds.KeyID.String(), Gallery: gs.KeyID.String(),
		sum: hex.EncodeToString(ms.FileSHA256[:])}
}

// ---- unbundle ----

type unbundleResult struct {
	Action   string          `json:"action"` // verified, installed, unchanged, rolled-back, current
	Dir      string          `json:"dir,omitempty"`
	Release  string          `json:"release,omitempty"`
	Previous string          `json:"previous,omitempty"`
	Removed  []string        `json:"removed,omitempty"`
	SignedBy *releaseKeys    `json:"signed_by"`
	Manifest bundle.Manifest `json:"manifest"`
}

func cmdUnbundle(e *env, args []string) error {
	fs := newFlagSet(e, "unbundle")
	pubs := listVar(fs, "pub", "trusted public key file, required; repeat for several, a file may hold several")
	dir := fs.String("dir", "", "install directory (current, previous and release-N live there); required except with -check")
	check := fs.Bool("check", false, "verify BUNDLE completely and stop, installing nothing")
	rollback := fs.Bool("rollback", false, "make the previous release current again (verified first); no BUNDLE")
	status := fs.Bool("status", false, "verify and describe the current release of -dir; no BUNDLE")
	downgrade := fs.Bool("allow-downgrade", false, "install a bundle created before the current release")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	modes := 0
	for _, b := range []bool{*check, *rollback, *status} {
		if b {
			modes++
		}
	}
	switch {
	case len(*pubs) == 0:
		return usagef("-pub is required")
	case modes > 1:
		return usagef("give at most one of -check, -rollback and -status")
	case (*rollback || *status) && len(rest) > 0:
		return usagef("-rollback and -status take no BUNDLE")
	case !*rollback && !*status && len(rest) != 1:
		return usagef("give one BUNDLE file")
	case !*check && *dir == "":
		return usagef("-dir is required")
	case *check && *dir != "":
		return usagef("-check installs nothing; drop -dir")
	}
	keys, err := readTrustedKeys(*pubs)
	if err != nil {
		return err
	}
	res := unbundleResult{Dir: *dir}
	var rel *bundle.Release
	switch {
	case *rollback:
		res.Action = "rolled-back"
		rel, err = bundle.Rollback(*dir, keys)
	case *status:
		res.Action = "current"
		rel, err = bundle.Status(*dir, keys)
	default:
		data, err := bundle.ReadFile(rest[0])
		if err != nil {
			return err
		}
		if *check {
			v, err := bundle.Verify(data, keys)
			if err != nil {
				return fmt.Errorf("%s: %w", rest[0], err)
			}
			res.Action, res.Manifest = "verified", v.Manifest
			res.SignedBy = keysOf(v.ManifestSignature, v.ModelSignature, v.GallerySignature)
			return printUnbundle(e, &res, rest[0], *jsonOut)
		}
		res.Action = "installed"
		rel, err = bundle.Install(*dir, data, keys, bundle.InstallOptions{AllowDowngrade: *downgrade})
		if err != nil {
			return fmt.Errorf("%s: %w", rest[0], err)
		}
	}
	if err != nil {
		return err
	}
	if rel.Unchanged {
		res.Action = "unchanged"
	}
	res.Release, res.Previous, res.Removed, res.Manifest = rel.Name, rel.Previous, rel.Removed, rel.Manifest
	res.SignedBy = keysOf(rel.ManifestSignature, rel.ModelSignature, rel.GallerySignature)
	name := ""
	if len(rest) > 0 {
		name = rest[0]
	}
	return printUnbundle(e, &res, name, *jsonOut)
}

func printUnbundle(e *env, r *unbundleResult, file string, jsonOut bool) error {
	if jsonOut {
		return printJSON(e, r)
	}
	dir, prev := textsafe.Cell(r.Dir), "none"
	if r.Previous != "" {
		prev = r.Previous + " (signet unbundle -rollback returns to it)"
	}
	switch r.Action {
	case "verified":
		fmt.Fprintf(e.stdout, "%s verifies: every signature, both files and the manifest; nothing installed\n", textsafe.Cell(file))
	case "installed":
		fmt.Fprintf(e.stdout, "installed %s in %s as %s; previous: %s\n", textsafe.Cell(file), dir, r.Release, prev)
	case "unchanged":
		fmt.Fprintf(e.stdout, "%s is already the current release %s of %s; nothing changed\n", textsafe.Cell(file), r.Release, dir)
	case "rolled-back":
		fmt.Fprintf(e.stdout, "rolled %s back to %s; previous: %s\n", dir, r.Release, prev)
	case "current":
		fmt.Fprintf(e.stdout, "%s: current release %s verifies; previous: %s\n", dir, r.Release, prev)
	}
	if len(r.Removed) > 0 {
		fmt.Fprintf(e.stdout, "removed old releases: %v\n", r.Removed)
	}
	fmt.Fprintln(e.stdout)
	return printManifest(e, &r.Manifest, r.SignedBy)
}
