package config

import (
	"os"

	"github.com/spf13/cobra"
)

// AttachEnvHelp appends the documented environment variables of a binary to
// a cobra command's help.
func AttachEnvHelp(cmd *cobra.Command, binary string) {
	base := cmd.HelpFunc()
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		base(c, args)
		_, _ = os.Stdout.WriteString("\n" + Help(Docs(binary)))
	})
}
