package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/gallery/bundle"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/sign"
)

// listFlag collects a flag given several times (-pub a.pub -pub b.pub).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// listVar defines a listFlag as fs.String defines a string flag.
func listVar(fs *flag.FlagSet, name, usage string) *listFlag {
	l := new(listFlag)
	fs.Var(l, name, usage)
	return l
}

// ---- keygen ----

type keygenResult struct {
	KeyID      string `json:"key_id"`
	PrivateKey string `json:"private_key"`
	PublicKey  string `json:"public_key"`
}

func cmdKeygen(e *env, args []string) error {
	fs := newFlagSet(e, "keygen")
	out := fs.String("o", "", "name of the key pair, required: writes NAME.key (private, mode 0600) and NAME.pub")
	force := fs.Bool("force", false, "replace existing key files")
	jsonOut := fs.Bool("json", false, "print JSON instead of text")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o is required")
	}
	base := strings.TrimSuffix(strings.TrimSuffix(*out, ".key"), ".pub")
	privPath, pubPath := base+".key", base+".pub"
	if !*force {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s: %w (use -force to replace it)", p, iofs.ErrExist)
			}
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privText, err := sign.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	pubText, err := sign.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	if err := sign.WriteKeyFile(privPath, privText, 0o600, *force); err != nil {
		return err
	}
	if err := sign.WriteKeyFile(pubPath, pubText, 0o644, *force); err != nil {
		os.Remove(privPath) // a private key without its public half is of no use
		return err
	}
	res := keygenResult{KeyID: sign.ID(pub).String(), PrivateKey: privPath, PublicKey: pubPath}
	if *jsonOut {
		return printJSON(e, res)
	}
	fmt.Fprintf(e.stdout, "key %s\n  private key: %s (mode 0600; keep it secret, use it with -key)\n  public key:  %s (give it to devices, use it with -pub)\n",
		res.KeyID, textsafe.Cell(privPath), textsafe.Cell(pubPath))
	return nil
}

// readPrivateKey reads a private key file, warning when others may read it.
func readPrivateKey(e *env, path string) (ed25519.PrivateKey, error) {
	if st, err := os.Stat(path); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(e.stderr, "warning: %s is readable by others (mode %04o); chmod 600 it\n", textsafe.Cell(path), st.Mode().Perm())
	}
	return sign.ReadPrivateKeyFile(path)
}

// readTrustedKeys reads every -pub file; a key given twice counts once.
func readTrustedKeys(paths []string) ([]ed25519.PublicKey, error) {
	if len(paths) == 0 {
		return nil, usagef("-pub is required")
	}
	var keys []ed25519.PublicKey
	seen := map[sign.KeyID]bool{}
	for _, p := range paths {
		ks, err := sign.ReadPublicKeysFile(p)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			if !seen[sign.ID(k)] {
				seen[sign.ID(k)] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// fileKind names a signet file by its magic bytes.
func fileKind(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89SGN\r\n\x1a\n")):
		return "model"
	case bytes.HasPrefix(data, []byte("SIGNETGL")):
		return "gallery"
	case bytes.HasPrefix(data, []byte("\x89SGB\r\n\x1a\n")):
		return "bundle"
	case bytes.HasPrefix(data, []byte("\x89SGS\r\n\x1a\n")):
		return "signature"
	}
	return ""
}

// sigRow is one file of sign or verify.
type sigRow struct {
	File        string     `json:"file"`
	Kind        string     `json:"kind"`
	Signature   string     `json:"signature,omitempty"`
	OK          *bool      `json:"ok,omitempty"`
	Error       string     `json:"error,omitempty"`
	KeyID       string     `json:"key_id,omitempty"`
	SignedAt    *time.Time `json:"signed_at,omitempty"`
	Size        uint64     `json:"size,omitempty"`
	SHA256      string     `json:"sha256,omitempty"`
	Fingerprint string     `json:"fingerprint,omitempty"`
}

func (r *sigRow) fill(s *sign.Signature) {
	r.KeyID = s.KeyID.String()
	t := s.Time
	r.SignedAt = &t
	r.Size = s.FileSize
	r.SHA256 = hex.EncodeToString(s.FileSHA256[:])
	r.Fingerprint = hex.EncodeToString(s.Fingerprint[:])
}

func printSigRows(e *env, rows []sigRow, status bool) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	head := "FILE\tKIND\tKEY\tSIGNED\tSHA-256\tFINGERPRINT"
	if status {
		head += "\tSTATUS"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		key, signed, sum, fp := "-", "-", "-", "-"
		if r.KeyID != "" {
			key, signed, sum, fp = r.KeyID, r.SignedAt.Format("2006-01-02 15:04:05Z"), r.SHA256[:16], r.Fingerprint[:16]
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", textsafe.Cell(r.File), r.Kind, key, signed, sum, fp)
		if status {
			st := "ok"
			if r.Error != "" {
				st = "REFUSED: " + textsafe.Escape(r.Error)
			}
			line += "\t" + st
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// ---- sign ----

// sigFileFlag defines flag name, the signature file of a single FILE in
// place of FILE.sig.
func sigFileFlag(fs *flag.FlagSet, name string) *string {
	return fs.String(name, "", "signature file (default FILE.sig); only with one FILE")
}

// checkSigFile refuses the sigFileFlag name set with more than one FILE.
func checkSigFile(fs *flag.FlagSet, name string, files []string) error {
	if fs.Lookup(name).Value.String() != "" && len(files) > 1 {
		return usagef("-%s names one signature file; give one FILE", name)
	}
	return nil
}

func cmdSign(e *env, args []string) error {
	fs := newFlagSet(e, "sign")
	keyPath := fs.String("key", "", "private key file (from signet keygen), required")
	out := sigFileFlag(fs, "o")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	files, err := parseFiles(fs, args, "no files to sign", "key")
	if err == nil {
		err = checkSigFile(fs, "o", files)
	}
	if err != nil {
		return err
	}
	priv, err := readPrivateKey(e, *keyPath)
	if err != nil {
		return err
	}
	// Sign everything before writing anything: a bad file leaves no
	// signature behind for the good ones either.
	sigs := make([]*sign.Signature, len(files))
	rows := make([]sigRow, len(files))
	now := time.Now()
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		kind := fileKind(data)
		switch kind {
		case "model":
			sigs[i], err = model.Sign(data, priv, now)
		case "gallery":
			sigs[i], err = gallery.Sign(data, priv, now)
		case "bundle":
			return fmt.Errorf("%s: a bundle carries its own signatures: make it with signet bundle -key", f)
		case "signature":
			return fmt.Errorf("%s: this is a signature; sign the file it belongs to", f)
		default:
			return fmt.Errorf("%s: not a signet model (.sgn) or gallery (.gal)", f)
		}
		if err != nil {
			return fmt.Errorf("%s: refusing to sign: %w", f, err)
		}
		rows[i] = sigRow{File: f, Kind: kind, Signature: sign.Path(f)}
		if *out != "" {
			rows[i].Signature = *out
		}
		rows[i].fill(sigs[i])
	}
	for i, s := range sigs {
		if err := s.WriteFile(rows[i].Signature); err != nil {
			return err
		}
	}
	if *jsonOut {
		return printJSON(e, rows)
	}
	if err := printSigRows(e, rows, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nsigned %d file(s) with key %s; signatures written next to them as FILE.sig\n", len(rows), sign.ID(priv.Public().(ed25519.PublicKey)))
	return nil
}

// ---- verify ----

func cmdVerify(e *env, args []string) error {
	fs := newFlagSet(e, "verify")
	pubs := listVar(fs, "pub", "trusted public key file (from signet keygen), required; repeat for several, a file may hold several")
	sigPath := sigFileFlag(fs, "sig")
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	files, err := parseFiles(fs, args, "no files to verify", "pub")
	if err == nil {
		err = checkSigFile(fs, "sig", files)
	}
	if err != nil {
		return err
	}
	keys, err := readTrustedKeys(*pubs)
	if err != nil {
		return err
	}
	rows := make([]sigRow, len(files))
	failed := 0
	for i, f := range files {
		rows[i] = verifyOne(f, *sigPath, keys)
		ok := rows[i].Error == ""
		rows[i].OK = &ok
		if !ok {
			failed++
		}
	}
	if *jsonOut {
		if err := printJSON(e, rows); err != nil {
			return err
		}
	} else if err := printSigRows(e, rows, true); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file(s) refused", failed, len(files))
	}
	return nil
}

func verifyOne(f, sigPath string, keys []ed25519.PublicKey) sigRow {
	row := sigRow{File: f}
	fail := func(err error) sigRow {
		row.Error = err.Error()
		return row
	}
	var data []byte
	var err error
	if head, herr := readHead(f); herr == nil && fileKind(head) == "bundle" {
		data, err = bundle.ReadFile(f)
	} else {
		data, err = os.ReadFile(f)
	}
	if err != nil {
		return fail(err)
	}
	row.Kind = fileKind(data)
	if row.Kind == "bundle" {
		if sigPath != "" {
			return fail(errors.New("a bundle holds its signatures; -sig does not apply"))
		}
		v, err := bundle.Verify(data, keys)
		if err != nil {
			return fail(err)
		}
		row.fill(v.ManifestSignature)
		row.Size, row.SHA256 = uint64(len(data)), hexSHA256(data)
		return row
	}
	if row.Kind != "model" && row.Kind != "gallery" {
		return fail(errors.New("not a signet model, gallery or bundle"))
	}
	if sigPath == "" {
		sigPath = sign.Path(f)
	}
	row.Signature = sigPath
	rec, err := sign.ReadFile(sigPath)
	if err != nil {
		return fail(err)
	}
	var s *sign.Signature
	if row.Kind == "model" {
		_, s, err = model.VerifySignature(data, rec, keys)
	} else {
		_, s, err = gallery.VerifySignature(data, rec, keys)
	}
	if err != nil {
		return fail(err)
	}
	row.fill(s)
	return row
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 8)
	n, _ := f.Read(b)
	return b[:n], nil
}
