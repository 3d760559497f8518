package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestMainDispatch(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{args: nil, code: 0, inStdout: "Commands:"},
		{args: []string{"--help"}, code: 0, inStdout: "serve"},
		{args: []string{"nope"}, code: 2, inStderr: `unknown command "nope"`},
		{args: []string{"keys"}, code: 2, inStderr: "keys create"},
		{args: []string{"keys", "frobnicate"}, code: 2, inStderr: `unknown command "keys frobnicate"`},
		{args: []string{"version"}, code: 0, inStdout: "go1."},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := Main(c.args, strings.NewReader(""), &out, &errb)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errb.String())
		}
		if c.inStdout != "" && !strings.Contains(out.String(), c.inStdout) {
			t.Errorf("%v: stdout %q lacks %q", c.args, out.String(), c.inStdout)
		}
		if c.inStderr != "" && !strings.Contains(errb.String(), c.inStderr) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errb.String(), c.inStderr)
		}
	}
}
