// Command gentree writes the benchmark tree: go run ./bench/gentree -out DIR -size 250
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/scalingo-deploy/scalingo-deploy/bench/treegen"
)

func main() {
	out := flag.String("out", "", "folder to create (must not exist)")
	mb := flag.Int64("size", 250, "approximate size in MB (10^6 bytes)")
	seed := flag.Uint64("seed", 1, "generator seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gentree: -out is required")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "gentree: %s already exists\n", *out)
		os.Exit(2)
	}
	st, err := treegen.Generate(*out, *mb*1_000_000, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d files, %d bytes\n", *out, st.Files, st.Bytes)
}
