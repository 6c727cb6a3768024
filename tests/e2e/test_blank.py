"""Blank prompts: a prompt file of only white space (any Unicode
White_Space) or invisible characters (U+200B-200D, U+2060, U+FEFF) is an
empty prompt. Alone it is refused locally with invalid_input and nothing is
sent; next to an image URL it is an edit without text, sent without a
prompt."""
import os
import subprocess

from harness import MountedTest, main, settle, spent, status_fields

URL = "https://images.example.com/ref-%d.png"

BLANKS = {
    "ascii": "   \n\t \n",
    "controls": "\t\v\f\r\n",
    "nel-nbsp": "\u0085\u00a0\u1680\n",
    "spaces": "".join(chr(c) for c in range(0x2000, 0x200b)) + "\n",
    "separators": "\u2028\u2029\u202f\u205f\u3000\r\n",
    "invisible": "\ufeff\u200b\u200c\u200d\u2060\n",
    "mixed": "\ufeff \u3000\t\u200b\n\n",
}


class BlankPromptTest(MountedTest):

    def test_printf_blanks_refused_nothing_sent(self):
        # wait/ gives the failed job's text, then EIO: cat exits 1
        r = subprocess.run(r"printf '   \n\t \n' > jobs/b.txt; cat wait/b",
                           shell=True, cwd=self.m.path, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        first, fields = status_fields(r.stdout)
        self.assertEqual(first, "failed", r.stdout)
        self.assertEqual(
            fields["error"],
            "invalid_input: jobs/b.txt: prompt is empty or only white "
            "space, and no image_url: nothing to generate")
        rc, text = self.m.wait("b")
        self.assertNotEqual(rc, 0, text)
        self.assertEqual(self.sim.stats()["create_requests"], 0)
        self.assertEqual(self.sim.requests(), [])

    def test_every_kind_of_blank_refused(self):
        for name, text in BLANKS.items():
            with self.subTest(name=name):
                self.m.write("jobs/%s.txt" % name, text.encode())
                first, fields = status_fields(
                    self.m.status_after_write(name))
                self.assertEqual(first, "failed", fields)
                self.assertTrue(fields["error"].startswith(
                    "invalid_input: jobs/%s.txt: prompt is empty or only "
                    "white space" % name), fields["error"])
        # one visible character is a prompt
        self.m.write("jobs/dot.txt", "\u3000.\u3000\n".encode())
        rc, text = self.m.wait("dot")
        self.assertEqual(rc, 0, text)
        settle(self)
        self.assertEqual(spent(self), (1, 1))
        self.assertEqual(self.sim.requests()[0]["body"]["input"]["prompt"],
                         "\u3000.\u3000")

    def test_blank_with_image_url_is_an_edit(self):
        self.m.write("jobs/ed.opts", "image_url = %s\n" % (URL % 1))
        self.m.write("jobs/ed.txt", " \t\u3000\n".encode())
        rc, text = self.m.wait("ed")
        self.assertEqual(rc, 0, text)
        got = self.sim.requests()[-1]["body"]["input"]
        self.assertNotIn("prompt", got)
        self.assertEqual(got["image_urls"], [URL % 1])
        self.assertEqual(
            os.getxattr(self.m.p("out/ed.png"), "user.gptimgfs.prompt"), b"")
        # blank is empty: the other blank, or none, is the same prompt
        self.m.write("jobs/ed.txt", b"\n")
        settle(self)
        self.assertEqual(spent(self), (1, 1))


if __name__ == "__main__":
    main()
