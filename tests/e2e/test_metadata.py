"""Metadata that travels (gptimgfs(1), OUTPUT, "Metadata in the image"):
every PNG gets an AUTOMATIC1111 "parameters" text chunk and an XMP packet
with the IPTC digital source type, its pixels (IDAT) and every other chunk
byte for byte what the API sent; JPEG gets the XMP in APP1 and WebP in an
XMP chunk; an image carrying a C2PA manifest, or one that is not whole, is
stored byte-identical; embed_metadata=no stores every image as sent. The
XMP is read back both with an XML parser and with exiftool."""
import http.server
import json
import os
import struct
import subprocess
import threading
import urllib.request
import xml.etree.ElementTree as ET
import zlib

from harness import MountedTest, main, png_size, status_fields

IPTC_EXT = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
RDF_DESC = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"
TRAINED = ("http://cv.iptc.org/newscodes/digitalsourcetype/"
           "trainedAlgorithmicMedia")
XMP_NS = b"http://ns.adobe.com/xap/1.0/\0"

# 1 x 1 WebP images, lossless (VP8L, with alpha) and lossy (VP8)
WEBP_LOSSLESS = bytes.fromhex(
    "524946461a000000574542505650384c0d0000002f0000001007101111888"
    "8fe0700")
WEBP_LOSSY = bytes.fromhex(
    "52494646220000005745425056503820160000003001009d012a010001000ec0"
    "fe25a400037000000000")


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data)))


def png_chunks(data):
    """[(type, data, raw bytes)] of a whole PNG."""
    png_size(data)  # every length and CRC checked
    pos, out = 8, []
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n],
                    data[pos:pos + 12 + n]))
        pos += 12 + n
    return out


def text_chunk(kind, body):
    """(keyword, text) of a tEXt or uncompressed iTXt chunk."""
    key, _, rest = body.partition(b"\0")
    if kind == b"iTXt":
        assert rest[:2] == b"\0\0", "compressed iTXt"
        rest = rest[2:].split(b"\0", 2)[2]  # language, translated keyword
        return key.decode(), rest.decode("utf-8")
    return key.decode(), rest.decode("latin-1")


def xmp_fields(packet):
    """{property: text} of the rdf:Description of an XMP packet, parsed
    as XML (so it must be well-formed)."""
    root = ET.fromstring(packet)
    desc = root.find(".//" + RDF_DESC)
    return {el.tag: el.text for el in desc}


def jpeg_segments(data):
    """[(marker, raw bytes)] from SOI up to SOS."""
    assert data[:2] == b"\xff\xd8"
    pos, out = 2, []
    while data[pos + 1] != 0xda:
        n = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((data[pos + 1], data[pos:pos + 2 + n]))
        pos += 2 + n
    return out


def segment(marker, body):
    return bytes([0xff, marker]) + struct.pack(">H", len(body) + 2) + body


def synthetic_jpeg(*extra):
    """A JPEG's structure (JFIF, Exif, tables, frame, scan); the entropy-
    coded data is filler: nothing here decodes pixels."""
    return (b"\xff\xd8" + segment(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
            + segment(0xe1, b"Exif\0\0MM\0*\0\0\0\x08\0\0") + b"".join(extra)
            + segment(0xdb, b"\0" + bytes(range(64)))
            + segment(0xc0, b"\x08\0\x01\0\x01\x01\x01\x11\0")
            + segment(0xda, b"\x01\x01\0\0\x3f\0") + b"\x12\x34\x56"
            + b"\xff\xd9")


def riff_chunks(data):
    """[(fourcc, data)] of a WebP whose RIFF size is its length."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    pos, out = 12, []
    while pos < len(data):
        n = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        out.append((data[pos:pos + 4], data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    assert pos == len(data)
    return out


class Served(http.server.BaseHTTPRequestHandler):
    """Serves the bytes of `files` on loopback: an API whose output URLs
    point at images this test wrote."""
    files = {}

    def do_GET(self):
        body = self.files.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


class MetadataTest(MountedTest):
    def setUp(self):
        super().setUp()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Served)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.base = "http://127.0.0.1:%d" % server.server_address[1]

    def image(self, name):
        with open(self.m.p("out", name), "rb") as f:
            return f.read()

    def said(self, name):
        return os.getxattr(self.m.p("out", name),
                           "user.gptimgfs.metadata").decode()

    def serve(self, name, data):
        """Job NAME, whose API answer points at data: out/NAME.EXT."""
        Served.files["/" + name] = data
        self.m.write("jobs/%s.txt" % name,
                     "a served cat [sim:url=%s/%s]\n" % (self.base, name))
        self.done(name)
        ext = [f for f in os.listdir(self.m.p("out"))
               if f.startswith(name + ".")]
        self.assertEqual(len(ext), 1, ext)
        return ext[0], self.image(ext[0])

    def sim_original(self, name):
        url = os.getxattr(self.m.p("out", name), "user.xdg.origin.url")
        return urllib.request.urlopen(url.decode(), timeout=10).read()

    def test_png_parameters_xmp_pixels(self):
        prompt = "un café <à> l'aube & \"夜明け\" \x01 fin\r\nsecond line"
        self.m.write("jobs/x.opts", "aspect_ratio = 3:2\nresolution = 2k\n"
                     "nsfw_checker = no\n")
        rc, text = self.m.submit("x", prompt)
        self.assertEqual(rc, 0, text)
        task_id = status_fields(text)[1]["task_id"]
        got, sent = self.image("x.png"), self.sim_original("x.png")
        chunks = png_chunks(got)
        # ours right after IHDR; everything else is the API's, in order
        self.assertEqual([c[0] for c in chunks[1:3]], [b"iTXt", b"iTXt"])
        self.assertEqual(b"\x89PNG\r\n\x1a\n" + b"".join(
            c[2] for i, c in enumerate(chunks) if i not in (1, 2)), sent)
        self.assertEqual([c[1] for c in chunks if c[0] == b"IDAT"],
                         [c[1] for c in png_chunks(sent) if c[0] == b"IDAT"])
        key, params = text_chunk(b"iTXt", chunks[1][1])
        self.assertEqual(key, "parameters")
        self.assertEqual(
            params, prompt + "\nModel: gpt-image-2, Aspect ratio: 3:2, "
            "Resolution: 2k, NSFW checker: false, Task id: %s, "
            "Generator: gptimgfs 0.1.0" % task_id)
        key, packet = text_chunk(b"iTXt", chunks[2][1])
        self.assertEqual(key, "XML:com.adobe.xmp")
        fields = xmp_fields(packet)
        self.assertEqual(fields[IPTC_EXT + "DigitalSourceType"], TRAINED)
        self.assertEqual(fields[IPTC_EXT + "AISystemUsed"], "gpt-image-2")
        # XML 1.0 cannot hold U+0001: replaced; the return is kept
        self.assertEqual(fields[IPTC_EXT + "AIPromptInformation"],
                         prompt.replace("\x01", "\ufffd"))
        self.assertEqual(
            fields["{http://purl.org/dc/elements/1.1/}identifier"], task_id)
        want = "embedded: parameters (iTXt), XMP (iTXt XML:com.adobe.xmp)"
        self.assertEqual(self.said("x.png"), want)
        self.assertIn("user.gptimgfs.metadata",
                      os.listxattr(self.m.p("out", "x.png")))
        # what is said of it, and the file, survive a remount
        self.m.unmount()
        self.m.start()
        self.assertEqual(self.said("x.png"), want)
        self.assertEqual(self.image("x.png"), got)

    def test_exiftool_reads_it(self):
        rc, text = self.m.submit("e", "a plain ascii cat")
        self.assertEqual(rc, 0, text)
        self.assertEqual(self.said("e.png"),
                         "embedded: parameters (tEXt), XMP (iTXt "
                         "XML:com.adobe.xmp)")
        out = subprocess.run(
            ["exiftool", "-j", "-G1", "-Parameters", "-DigitalSourceType",
             "-CreatorTool", "-Warning", self.m.p("out", "e.png")],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        tags = json.loads(out.stdout)[0]
        self.assertTrue(tags["PNG:Parameters"].startswith(
            "a plain ascii cat\nModel: gpt-image-2, "), tags)
        self.assertEqual(tags["XMP-iptcExt:DigitalSourceType"], TRAINED)
        self.assertEqual(tags["XMP-xmp:CreatorTool"], "gptimgfs 0.1.0")
        self.assertNotIn("ExifTool:Warning", tags)

    def test_c2pa_png_byte_identical(self):
        sent = (b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
                + chunk(b"caBX", b"\0\0\0\x10jumb\0\0\0\x08jumd")
                + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
                + chunk(b"IEND", b""))
        name, got = self.serve("c", sent)
        self.assertEqual((name, got), ("c.png", sent))
        self.assertEqual(self.said(name),
                         "not embedded: the image carries a C2PA manifest "
                         "(caBX chunk) and is byte-identical to the API's")

    def test_broken_png_stored_as_sent(self):
        sent = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"\0" * 13)[:20]
        name, got = self.serve("b", sent)
        self.assertEqual((name, got), ("b.png", sent))
        self.assertEqual(self.said(name),
                         "not embedded: not a whole PNG: the chunk at byte 8 "
                         "is not IHDR")
        self.assertIn("stored as sent, without metadata", self.m.read_log())

    def test_jpeg_app1_xmp(self):
        sent = synthetic_jpeg()
        name, got = self.serve("j", sent)
        self.assertEqual(name, "j.jpg")
        segs = jpeg_segments(got)
        self.assertEqual([m for m, _ in segs[:3]], [0xe0, 0xe1, 0xe1])
        self.assertTrue(segs[1][1][4:].startswith(b"Exif"))
        xmp = segs[2][1]
        self.assertEqual(xmp[4:4 + len(XMP_NS)], XMP_NS)
        self.assertEqual(got.replace(xmp, b"", 1), sent)
        fields = xmp_fields(xmp[4 + len(XMP_NS):])
        self.assertEqual(fields[IPTC_EXT + "DigitalSourceType"], TRAINED)
        self.assertEqual(self.said(name), "embedded: XMP (APP1)")

    def test_jpeg_with_jumbf_byte_identical(self):
        sent = synthetic_jpeg(segment(0xeb, b"JP\0\x01\0\0\0\x01jumb"))
        name, got = self.serve("k", sent)
        self.assertEqual((name, got), ("k.jpg", sent))
        self.assertIn("C2PA manifest (APP11 JUMBF)", self.said(name))

    def test_webp_xmp_chunk(self):
        for job, sent, alpha in (("l", WEBP_LOSSLESS, 0x10),
                                 ("y", WEBP_LOSSY, 0)):
            name, got = self.serve(job, sent)
            self.assertEqual(name, job + ".webp")
            chunks = riff_chunks(got)
            self.assertEqual([c[0] for c in chunks],
                             [b"VP8X"] + [c[0] for c in riff_chunks(sent)]
                             + [b"XMP "])
            # XMP flag, alpha as the bitstream says, canvas 1 x 1
            self.assertEqual(chunks[0][1], bytes([0x04 | alpha]) + bytes(9))
            self.assertEqual(chunks[1:-1], riff_chunks(sent))
            fields = xmp_fields(chunks[-1][1])
            self.assertEqual(fields[IPTC_EXT + "DigitalSourceType"], TRAINED)
            self.assertEqual(self.said(name),
                             "embedded: XMP (XMP chunk, VP8X header added)")


class NoEmbedTest(MountedTest):
    mount_options = ("embed_metadata=no",)

    def test_stored_as_sent(self):
        rc, text = self.m.submit("n", "a cat left alone")
        self.assertEqual(rc, 0, text)
        path = self.m.p("out", "n.png")
        url = os.getxattr(path, "user.xdg.origin.url").decode()
        with open(path, "rb") as f:
            self.assertEqual(f.read(),
                             urllib.request.urlopen(url, timeout=10).read())
        self.assertEqual(os.getxattr(path, "user.gptimgfs.metadata"),
                         b"not embedded: embed_metadata=no")


if __name__ == "__main__":
    main()
