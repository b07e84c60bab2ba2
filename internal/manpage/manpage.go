package manpage

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// Write writes section 1 pages for root and every available command
// under it (help and completion included, as Execute adds them) into dir.
// title is the page title (the program's name in capitals), source the
// footer's package name.
//
// cobra/doc renders the texts as Markdown, where a <uid> in "bt_u<uid>"
// is an HTML tag and vanishes: Write escapes < and > in the tree's texts
// first. It changes root's texts, so give it a tree built for the pages.
func Write(root *cobra.Command, dir, title, source string) error {
	return WriteSection(root, dir, title, "1", source)
}

// WriteSection is Write into another manual section: 8 for a daemon and
// its administrator commands (credmon), whose pages would otherwise take
// the names of another command's section 1 pages.
func WriteSection(root *cobra.Command, dir, title, section, source string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	escapeTree(root)
	root.DisableAutoGenTag = true // no generation date line: reproducible pages
	return doc.GenManTree(root, &doc.GenManHeader{Title: title, Section: section, Source: source, Manual: "credmon manual"}, dir)
}

var markdownHTML = strings.NewReplacer("<", `\<`, ">", `\>`)

func escapeTree(c *cobra.Command) {
	c.Short = markdownHTML.Replace(c.Short)
	c.Long = markdownHTML.Replace(c.Long)
	c.Example = markdownHTML.Replace(c.Example)
	c.Flags().VisitAll(func(f *pflag.Flag) { f.Usage = markdownHTML.Replace(f.Usage) })
	for _, sub := range c.Commands() {
		escapeTree(sub)
	}
}
