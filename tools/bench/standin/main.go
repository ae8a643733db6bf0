// Command standin answers gitops-validator's protocol at once: one "allowed" verdict per request
// line, judging nothing. bench_validators.py times `gitops validate` with it to show what the
// upstream path costs besides the validator's own work: the ceiling of the speed-up.
package main

import (
	"bufio"
	"os"
)

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer out.Flush()
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 1 {
			out.WriteString(`{"allowed":true}` + "\n")
			if in.Buffered() == 0 {
				out.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
