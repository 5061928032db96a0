// Command signet runs signet models and manages few-shot galleries from the
// command line.
//
// Usage:
//
//	signet <command> [flags] [arguments]
//
// Start with demo: run from the repository root with nothing downloaded,
// `go run ./tools/signet demo` loads the shipped traffic-sign encoder,
// builds and calibrates an in-memory gallery of base signs, shows a sign the
// encoder never saw coming out Unknown, enrols it from three photos with the
// enrolment risk report, shows it recognised, and ends with accuracy
// measured in the same run (base signs before and after, the new sign's
// recall, 5-way 1- and 5-shot episodes on the novel signs).
//
// Model commands: embed (embeddings of images or .npy tensors in the ONNX
// input layout) and bench (latency percentiles, kernel tier per layer,
// allocations per inference). Gallery commands: enroll and report (the risk
// report of an enrolment: accuracy before and after, negative flip rate,
// nearest classes), classify, list, remove, rename, calibrate (thresholds at
// a target false-accept rate), reembed (move a gallery to a new model from
// its stored crops), rollback, and eval (N-way K-shot episodes with an
// optional open-set AUROC on a folder-per-class dataset). A command that
// fails leaves the gallery file as it was. Shipping commands: keygen, sign
// and verify (Ed25519 signatures in FILE.sig), bundle and unbundle (one
// signed deployment file, installed atomically with rollback).
//
// Commands print human-readable tables by default and JSON with -json.
// Exit status: 0 success, 1 runtime error (bad file, failed inference),
// 2 usage error (unknown command or flag, missing argument).
// Run `signet help` for the list of commands and `signet <command> -h` for
// the flags of one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/signet-go/signet/internal/textsafe"
)

// Exit codes are part of the command's contract: scripts branch on them.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// env is what a command may touch: its output streams. Commands never write
// to os.Stdout/os.Stderr directly so tests can run them in-process.
type env struct {
	stdout, stderr io.Writer
}

type command struct {
	name    string
	args    string // synopsis after the flags
	summary string
	run     func(e *env, args []string) error
}

var commands []*command

func init() {
	commands = []*command{
		{"embed", "INPUT...", "compute embeddings of images or .npy tensors", cmdEmbed},
		{"bench", "", "measure inference latency and allocations", cmdBench},
		{"enroll", "IMAGE|FOLDER...", "enrol a class from a few images, printing the risk report", cmdEnroll},
		{"report", "IMAGE|FOLDER...", "print the risk report of an enrolment without committing it", cmdReport},
		{"classify", "IMAGE|FOLDER...", "match images against a gallery", cmdClassify},
		{"list", "", "list a gallery's classes", cmdList},
		{"remove", "", "remove a class from a gallery", cmdRemove},
		{"rename", "", "rename a class of a gallery", cmdRename},
		{"calibrate", "", "set thresholds at a target false-accept rate", cmdCalibrate},
		{"reembed", "", "move a gallery to a new model using its stored images", cmdReembed},
		{"rollback", "", "restore a previous version of a gallery file", cmdRollback},
		{"eval", "", "few-shot N-way K-shot evaluation on a folder-per-class dataset", cmdEval},
		{"demo", "", "enrol a never-seen traffic sign into a base gallery with the shipped encoder, end to end", cmdDemo},
		{"keygen", "", "make an Ed25519 signing key pair (NAME.key, NAME.pub)", cmdKeygen},
		{"sign", "FILE...", "sign model (.sgn) and gallery (.gal) files, writing FILE.sig", cmdSign},
		{"verify", "FILE...", "verify signed models, galleries and bundles against trusted public keys", cmdVerify},
		{"bundle", "", "pack a model, its gallery and a manifest into one signed deployment bundle", cmdBundle},
		{"unbundle", "BUNDLE", "verify a bundle and install it next to the previous release, or roll back", cmdUnbundle},
		{"help", "[COMMAND]", "show help for signet or one command", nil},
	}
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks errors caused by how the command was invoked; they exit with
// status 2 and are followed by a hint to the usage text.
var errUsage = errors.New("usage error")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// run executes one signet invocation and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			c := lookup(args[1])
			if c == nil || c.run == nil {
				fmt.Fprintf(stderr, "signet help: unknown command %q\n", args[1])
				return exitUsage
			}
			return run([]string{c.name, "-h"}, stdout, stderr)
		}
		printUsage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil || c.run == nil {
		fmt.Fprintf(stderr, "signet: unknown command %q\n", name)
		printUsage(stderr)
		return exitUsage
	}
	err := c.run(e, args[1:])
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		fmt.Fprintf(stderr, "signet %s: %s\nRun 'signet %s -h' for usage.\n", name, textsafe.Escape(msg), name)
		return exitUsage
	default:
		// Messages quote file names and labels, which may come from
		// someone else's files: escape anything a terminal would act on.
		fmt.Fprintf(stderr, "signet %s: %s\n", name, textsafe.Escape(err.Error()))
		return exitRuntime
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "signet runs signet models (.sgn) and manages few-shot galleries (.gal).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  signet <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'signet <command> -h' for the flags of a command.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 runtime error, 2 usage error.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage (synopsis, summary, flags) to the command's stderr.
func newFlagSet(e *env, name string) *flag.FlagSet {
	c := lookup(name)
	fs := flag.NewFlagSet("signet "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := e.stderr
		fmt.Fprintf(w, "Usage: signet %s [flags] %s\n\n%s.\n\nFlags:\n", name, c.args, capitalize(c.summary))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseNoArgs is parseFlags for a command that takes no positional
// arguments: any is a usage error.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parseFlags(fs, args)
	if err == nil && len(rest) > 0 {
		err = usagef("unexpected arguments %q", rest)
	}
	return err
}

// requireFlags is a usage error naming the first of the named string flags
// left empty, or nil when every one is set.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			return usagef("-%s is required", n)
		}
	}
	return nil
}

// parseFlags parses flags that may appear before, between or after the
// positional arguments (`signet embed a.png -json` works), stopping at "--".
// -h prints usage and returns flag.ErrHelp; other problems are usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp // Parse has printed the usage
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag.Parse consumed a "--" terminator if that is what stopped it.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
