#!/usr/bin/env python3
"""Loads a folder of kiln's TensorBoard events files with TensorBoard's own EventAccumulator and
checks what it finds, so that "TensorBoard reads them" is tested by TensorBoard itself.

    load_with_tensorboard.py DIR                          # tags and counts; fails when there are none
    load_with_tensorboard.py DIR --db runs/kiln.db --run pix2pix [--files N]

DIR is one run's folder: runs/<run>/tensorboard (the hook) or <out>/<run> (kiln export
tensorboard). With --db and --run, every scalar tag must hold exactly the run's summaries
(same steps, each value equal to the stored one as a float32, NaN as NaN) and every image tag
the run's image rows (same steps, PNG or JPEG bytes whose stated size is positive, and the
bytes of the file when it is still there). --files N: DIR must hold N events files (a resumed
run's hook writes one per start). Exit 0 when all holds, 1 with one line per mismatch.
Needs the tensorboard package (pip install tensorboard); nothing else beyond the standard library.
"""
import argparse
import math
import os
import sqlite3
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator


def as_float32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def load(folder):
    # 0: keep every event of a tag (the default keeps a sample of 1000 scalars and 4 images).
    accumulator = event_accumulator.EventAccumulator(
        folder, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0})
    accumulator.Reload()
    return accumulator


def database_rows(db, run):
    connection = sqlite3.connect("file:{}?mode=ro".format(db), uri=True)
    if connection.execute("SELECT COUNT(*) FROM runs WHERE name = ?", (run,)).fetchone()[0] != 1:
        sys.exit("error: no run named '{}' in {}".format(run, db))
    scalars, images = {}, {}
    for tag, step, value in connection.execute(
            "SELECT s.tag, s.step, s.value FROM summaries s JOIN runs r ON r.id = s.run_id WHERE r.name = ?", (run,)):
        scalars.setdefault(tag, {})[step] = float("nan") if value is None else value
    for tag, step, path in connection.execute(
            "SELECT i.tag, i.step, i.path FROM images i JOIN runs r ON r.id = i.run_id WHERE r.name = ?", (run,)):
        images.setdefault(tag, {})[step] = path
    return scalars, images


def check_scalars(accumulator, expected, problems):
    found = set(accumulator.Tags()["scalars"])
    for tag in sorted(set(expected) - found):
        problems.append("scalar tag {} is in the database ({} values) but not in the events".format(
            tag, len(expected[tag])))
    for tag in sorted(found - set(expected)):
        problems.append("scalar tag {} is in the events but not in the database".format(tag))
    for tag in sorted(found & set(expected)):
        events = {event.step: event.value for event in accumulator.Scalars(tag)}
        if sorted(events) != sorted(expected[tag]):
            problems.append("{}: steps {} in the events, {} in the database".format(
                tag, sorted(events), sorted(expected[tag])))
            continue
        for step, value in sorted(expected[tag].items()):
            got = events[step]
            same = math.isnan(got) if math.isnan(value) else got == as_float32(value)
            if not same:
                problems.append("{} at step {}: {!r} in the events, {!r} (float32 {!r}) in the database".format(
                    tag, step, got, value, as_float32(value)))


def check_images(accumulator, expected, problems):
    found = set(accumulator.Tags()["images"])
    for tag in sorted(set(expected) ^ found):
        problems.append("image tag {} is in the {} only".format(tag, "database" if tag in expected else "events"))
    for tag in sorted(found & set(expected)):
        events = {event.step: event for event in accumulator.Images(tag)}
        if sorted(events) != sorted(expected[tag]):
            problems.append("{}: image steps {} in the events, {} in the database".format(
                tag, sorted(events), sorted(expected[tag])))
            continue
        for step, path in sorted(expected[tag].items()):
            event = events[step]
            encoded = event.encoded_image_string
            if not (encoded.startswith(b"\x89PNG\r\n\x1a\n") or encoded.startswith(b"\xff\xd8\xff")):
                problems.append("{} at step {}: not PNG or JPEG bytes".format(tag, step))
            if event.width <= 0 or event.height <= 0:
                problems.append("{} at step {}: size {}x{}".format(tag, step, event.width, event.height))
            if os.path.isfile(path):
                with open(path, "rb") as file:
                    if file.read() != encoded:
                        problems.append("{} at step {}: bytes differ from {}".format(tag, step, path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="one run's folder of events files")
    parser.add_argument("--db", help="the run database to compare with")
    parser.add_argument("--run", help="the run's name in --db")
    parser.add_argument("--files", type=int, help="how many events files the folder must hold")
    args = parser.parse_args()
    if bool(args.db) != bool(args.run):
        parser.error("--db and --run go together")

    files = sorted(name for name in os.listdir(args.folder) if "tfevents" in name)
    accumulator = load(args.folder)
    tags = accumulator.Tags()
    scalar_count = sum(len(accumulator.Scalars(tag)) for tag in tags["scalars"])
    image_count = sum(len(accumulator.Images(tag)) for tag in tags["images"])
    print("{}: {} events file{}, {} scalar tags ({} values), {} image tags ({} images)".format(
        args.folder, len(files), "" if len(files) == 1 else "s", len(tags["scalars"]), scalar_count,
        len(tags["images"]), image_count))
    for tag in tags["scalars"]:
        print("  scalar {}: {}".format(tag, len(accumulator.Scalars(tag))))
    for tag in tags["images"]:
        print("  image {}: {}".format(tag, len(accumulator.Images(tag))))

    problems = []
    if scalar_count == 0:
        problems.append("TensorBoard found no scalars")
    if args.files is not None and len(files) != args.files:
        problems.append("{} events files, expected {}".format(len(files), args.files))
    if args.db:
        scalars, images = database_rows(args.db, args.run)
        check_scalars(accumulator, scalars, problems)
        check_images(accumulator, images, problems)
    for problem in problems:
        print("mismatch: " + problem, file=sys.stderr)
    if not problems:
        print("ok: TensorBoard read what the database holds" if args.db else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
