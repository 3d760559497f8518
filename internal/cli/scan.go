package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/scan"
)

// maxScanLine bounds one JSON line of `rampart scan --jsonl` (and a whole
// stdin text without --jsonl).
const maxScanLine = 4 << 20

func init() {
	register("scan", "scan text: prompt injection (input) or PII/secrets (output); TEXT, stdin or JSON lines", runScan)
}

func runScan(env *Env) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	dir := fs.String("direction", scan.Input, "input (prompt injection) or output (model answers)")
	policy := fs.String("policy", "", "rampart config file whose layers.injection section sets thresholds and options")
	jsonl := fs.Bool("jsonl", false, `read JSON lines {"text": ..., "role": ..., "user": ..., "tools": [...]} from stdin, write one result per line`)
	exitCode := fs.Bool("exit-code", false, "exit 1 when any input is flagged, 0 when all are clean, 2 on any error (a bad line included); without it the exit code does not depend on the verdicts")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: rampart scan [--direction input|output] [--policy FILE] [--jsonl] [--exit-code] [TEXT]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *dir != scan.Input && *dir != scan.Output {
		fmt.Fprintf(env.Stderr, "rampart scan: --direction %q: want input or output\n", *dir)
		return 2
	}
	sc, err := scanner(*policy)
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart scan:", err)
		return 2
	}
	if *jsonl {
		if fs.NArg() > 0 {
			fmt.Fprintln(env.Stderr, "rampart scan: --jsonl reads stdin; no TEXT argument")
			return 2
		}
		sum, err := scanLines(sc, *dir, env.Stdin, env.Stdout)
		if err != nil {
			fmt.Fprintln(env.Stderr, "rampart scan:", err)
			return scanFailed(*exitCode)
		}
		if *exitCode {
			return sum.code()
		}
		return 0
	}
	var text string
	if fs.NArg() > 0 {
		text = strings.Join(fs.Args(), " ")
	} else {
		b, err := io.ReadAll(io.LimitReader(env.Stdin, maxScanLine+1))
		if err != nil {
			fmt.Fprintln(env.Stderr, "rampart scan:", err)
			return scanFailed(*exitCode)
		}
		if len(b) > maxScanLine {
			fmt.Fprintf(env.Stderr, "rampart scan: input over %d bytes\n", maxScanLine)
			return scanFailed(*exitCode)
		}
		text = string(b)
	}
	res := sc.Scan(scan.Item{Text: text}, *dir)
	if err := json.NewEncoder(env.Stdout).Encode(res); err != nil {
		return scanFailed(*exitCode)
	}
	var sum scanSummary
	sum.add(res)
	if *exitCode {
		return sum.code()
	}
	if res.Error != "" {
		return 1
	}
	return 0
}

// scanFailed is the exit code of a scan that could not run or finish: 2
// with --exit-code (1 is "flagged" there), 1 without it as before.
func scanFailed(exitCode bool) int {
	if exitCode {
		return 2
	}
	return 1
}

// scanSummary is what --exit-code reports about a run's results.
type scanSummary struct{ flagged, errored bool }

func (s *scanSummary) add(r scan.Result) {
	s.flagged = s.flagged || r.Flagged
	s.errored = s.errored || r.Error != ""
}

// code is the --exit-code exit status: an error wins over a verdict, since
// an input that could not be scanned may have been an attack.
func (s scanSummary) code() int {
	switch {
	case s.errored:
		return 2
	case s.flagged:
		return 1
	}
	return 0
}

// scanOptions are the injection detector options of a config file (or the
// embedded defaults).
func scanOptions(path string) (detect.Options, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return detect.Options{}, err
	}
	return scan.InjectionOptions(cfg)
}

// scanner builds the scanner from a config file's layer sections (or the
// embedded defaults), exactly as the gateway's POST /v1/scan does.
func scanner(path string) (*scan.Scanner, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return scan.FromConfig(cfg)
}

// scanLines streams JSON lines: one result line per input line, in order,
// in constant memory. A line that is not a JSON object with a string
// "text" gets an error object; a line over the limit is skipped to its end
// and gets an error object too. It returns whether any line was flagged or
// got an error object.
func scanLines(sc *scan.Scanner, dir string, in io.Reader, out io.Writer) (scanSummary, error) {
	var sum scanSummary
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(w)
	var buf []byte
	for n := 1; ; n++ {
		line, tooLong, err := readLine(r, buf[:0], maxScanLine)
		buf = line[:0]
		if err == io.EOF && len(line) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			return sum, err
		}
		var res scan.Result
		if tooLong {
			res = scan.Result{Findings: []scan.Finding{}, Error: fmt.Sprintf("line %d: longer than %d bytes", n, maxScanLine)}
		} else if len(strings.TrimSpace(string(line))) == 0 {
			res = scan.Result{Findings: []scan.Finding{}, Error: fmt.Sprintf("line %d: empty", n)}
		} else {
			var item struct {
				Text  *string  `json:"text"`
				Role  string   `json:"role"`
				User  string   `json:"user"`
				Tools []string `json:"tools"`
			}
			if e := json.Unmarshal(line, &item); e != nil {
				res = scan.Result{Findings: []scan.Finding{}, Error: fmt.Sprintf("line %d: %v", n, e)}
			} else if item.Text == nil {
				res = scan.Result{Findings: []scan.Finding{}, Error: fmt.Sprintf("line %d: no \"text\"", n)}
			} else {
				res = sc.Scan(scan.Item{Text: *item.Text, Role: item.Role, User: item.User, Tools: item.Tools}, dir)
			}
		}
		sum.add(res)
		if e := enc.Encode(res); e != nil {
			return sum, e
		}
		if err == io.EOF {
			break
		}
	}
	return sum, w.Flush()
}

// readLine reads one line (without its newline) into buf. Past limit bytes
// it stops storing, reads on to the newline, and reports tooLong.
func readLine(r *bufio.Reader, buf []byte, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, e := r.ReadLine()
		if len(buf)+len(chunk) > limit {
			tooLong = true
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if e != nil {
			return buf, tooLong, e
		}
		if !isPrefix {
			return buf, tooLong, nil
		}
	}
}
