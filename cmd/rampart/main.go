// Command rampart is the LLM security gateway. All logic lives in
// internal/cli and the packages it calls; this file stays thin.
package main

import (
	"os"

	"github.com/rampart-ai/rampart/internal/cli"
)

func main() { os.Exit(cli.Run()) }
