"""What crosses the sandbox's wall: plain data only, rebuilt strictly; the output cap."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rnncourse.exercises.sandbox import _Output
from rnncourse.exercises.wire import Foreign, WireError, decode, dumps, encode, loads
from rnncourse.numpy import StepCache


def roundtrip(value):
    return decode(loads(dumps({"op": "x", "v": encode(value)}))["v"])


def test_numbers_containers_arrays_and_named_tuples_come_back_equal_and_of_exact_types():
    x = np.arange(6.0).reshape(2, 3)
    back = roundtrip({"a": (1, 2.5, None, True, "s"), "b": [x, np.float32(1.5), float("nan")], 3: x.T})
    assert back["a"] == (1, 2.5, None, True, "s") and type(back["a"]) is tuple
    assert type(back["b"][0]) is np.ndarray and back["b"][0].flags.writeable and np.array_equal(back["b"][0], x)
    assert type(back["b"][1]) is np.float32 and back["b"][1] == np.float32(1.5)
    assert np.isnan(back["b"][2]) and np.array_equal(back[3], x.T)
    cache = StepCache(*(np.full((1, 1), float(i)) for i in range(5)))
    again = roundtrip(cache)
    assert type(again) is StepCache and all(np.array_equal(a, b) for a, b in zip(again, cache))


def test_subclasses_and_objects_arrive_as_a_type_name_only():
    class LyingArray(np.ndarray):
        pass

    class Anything(float):
        def __eq__(self, other):
            return True

    class Payload:
        def __reduce__(self):
            return (os.system, ("false",))

    for value, name in ((np.zeros(2).view(LyingArray), "LyingArray"), (Anything(1.0), "Anything"),
                        (Payload(), "Payload"), (np.array(["a"], dtype=object), "ndarrayOfObject")):
        back = roundtrip(value)
        assert isinstance(back, Foreign) and type(back).__name__ == name
        assert not isinstance(back, (np.ndarray, float))


def test_a_named_tuple_arrives_even_where_its_module_was_not_imported_yet():
    # The sandbox has imported only what the notebook did (here: nothing of rnncourse.numpy); the
    # checker's cache must still arrive as the package's class, not as a type name.
    sent = json.dumps(encode(StepCache(*(np.full((1, 1), float(i)) for i in range(5)))))
    code = ("import json, sys\nfrom rnncourse.exercises.wire import decode\n"
            "assert 'rnncourse.numpy.elman' not in sys.modules\n"
            "back = decode(json.loads(sys.stdin.read()))\n"
            "print(type(back).__module__, type(back).__name__, float(back[4][0, 0]))")
    run = subprocess.run([sys.executable, "-c", code], input=sent, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["rnncourse.numpy.elman", "StepCache", "4.0"]
    # Only rnncourse's modules are imported, and only their named tuples are rebuilt.
    for cls in ("collections:OrderedDict", "rnncourse.no_such_module:X", "rnncourse.numpy.elman:rnn_forward",
                "rnncourse..elman:StepCache"):
        assert isinstance(decode({"t": "nt", "cls": cls, "v": []}), Foreign)


def _nd(dtype="<f8", shape=(2,), data=b"\0" * 16):
    return {"t": "nd", "dtype": dtype, "shape": list(shape), "b64": base64.b64encode(data).decode()}


@pytest.mark.parametrize("bad, message", [
    (_nd(dtype="|O8"), "dtype should be one of"),
    (_nd(shape=(3,)), r"needs 24 bytes, got 16"),
    (_nd(shape=(-1,)), "non-negative int"),
    (_nd(shape=(1 << 20, 1 << 20)), "larger than"),
    ({"t": "pickle", "v": "gASV"}, "unknown tag 'pickle'"),
    ({"t": "dict", "k": [[1]], "v": [1]}, "str or int keys"),
    ({"t": "float", "v": "1e999"}, "nan, inf or -inf"),
    ([1, 2], "unexpected list"),
])
def test_anything_else_is_refused(bad, message):
    with pytest.raises(WireError, match=message):
        decode(bad)


def test_messages_are_strict_json_objects():
    with pytest.raises(WireError, match="NaN is not plain JSON"):
        loads(b'{"op": "return", "value": NaN}')
    with pytest.raises(WireError, match="with an 'op'"):
        loads(b"[1, 2]")
    deep = {"t": "list", "v": []}
    for _ in range(40):
        deep = {"t": "list", "v": [deep]}
    with pytest.raises(WireError, match="nested deeper than 32"):
        decode(json.loads(json.dumps(deep)))


def test_a_function_becomes_a_call_back_on_the_way_in_and_a_name_on_the_way_out():
    callbacks = []
    sent = encode([len], callbacks)
    assert callbacks == [len] and sent == {"t": "list", "v": [{"t": "fn", "id": 0}]}
    assert decode(sent, callback=lambda i: ("stub", i)) == [("stub", 0)]
    assert type(decode(sent)[0]).__name__ == "function"


def test_the_output_keeps_its_start_and_end_and_counts_what_it_dropped():
    read, write = os.pipe()
    output = _Output(os.fdopen(read, "rb"), keep=100)
    os.write(write, b"a" * 60 + b"b" * 1000 + b"c" * 40)
    os.close(write)
    output.thread.join(timeout=5)
    assert output.text() == "a" * 50 + "\n[... 1000 bytes of output dropped ...]\n" + "b" * 10 + "c" * 40


def test_the_output_after_a_mark_is_only_what_came_after_it():
    # A message about one call quotes what that call printed: the mark, taken as the call starts, takes in what
    # the pipe holds then (an earlier call's prints), so none of it counts as the later call's.
    read, write = os.pipe()
    output = _Output(os.fdopen(read, "rb"), keep=100)
    os.write(write, b"Q" * 30 + b"\n")
    first = output.mark()
    os.write(write, b"bye\n")
    second = output.mark()
    os.write(write, b"b" * 1000 + b"c" * 40)
    os.close(write)
    output.thread.join(timeout=5)
    assert (first, second) == (31, 35)
    assert output.text(second) == "b" * 15 + "\n[... 975 bytes of output dropped ...]\n" + "b" * 10 + "c" * 40
    assert output.text(first).startswith("bye\n" + "b" * 15 + "\n[... 975 bytes")
    assert output.text(output.mark()) == ""


def test_a_flood_of_foreign_type_names_makes_a_bounded_number_of_classes():
    import gc

    from rnncourse.exercises.wire import MAX_FOREIGN_TYPES

    for round_ in range(3):
        names = [f"Made{round_}x{i}" for i in range(500)]
        back = decode({"t": "list", "v": [{"t": "opaque", "type": name} for name in names]})
        assert [value.type_name for value in back] == names and all(isinstance(v, Foreign) for v in back)
        assert len({type(value) for value in back}) == MAX_FOREIGN_TYPES + 1         # the named ones, and Foreign
        assert type(back[0]).__name__ == names[0] and type(back[-1]) is Foreign
    del back
    gc.collect()
    assert not [cls for cls in Foreign.__subclasses__() if cls.__name__.startswith("Made")]   # freed with their values


def test_the_graders_decoder_step_refuses_inputs_of_the_wrong_shape_instead_of_broadcasting_them():
    # ch06's step runs in the grader's process, called back by the student's greedy_decode: tokens (2000,)
    # and h (2000, 1, H) would broadcast against its (B, H) into 2000 * 2000 * H entries.
    import torch

    from rnncourse.exercises.ch06 import check_greedy_decode
    from rnncourse.exercises.registry import ExerciseFailure

    def greedy_decode(step, h0, *, bos, eos, max_len, pad=0):
        step(torch.zeros(2000, dtype=torch.long), torch.zeros(2000, 1, h0.shape[1], dtype=torch.float64))

    with pytest.raises(ExerciseFailure, match=r"raised ValueError: step\(tokens, h\): tokens should hold one token "
                                              r"per sequence of the batch, at most 2, but has 2000"):
        check_greedy_decode(greedy_decode)

    def greedy_decode(step, h0, *, bos, eos, max_len, pad=0):      # one token per row, h one row short of it
        step(torch.ones(h0.shape[0], dtype=torch.long), h0[:1, None])

    with pytest.raises(ExerciseFailure, match=r"raised ValueError: step\(tokens, h\): h should have .*shape \(B, H\)"):
        check_greedy_decode(greedy_decode)

    def greedy_decode(step, h0, *, bos, eos, max_len, pad=0):      # feeding only the rows still decoding is fine
        tokens, h, rows = torch.full((h0.shape[0],), bos), h0, torch.arange(h0.shape[0])
        out = torch.full((max_len, h0.shape[0]), pad)
        for t in range(max_len):
            logits, h = step(tokens, h)
            tokens = logits.argmax(-1)
            out[t, rows] = tokens
            keep = tokens != eos
            tokens, h, rows = tokens[keep], h[keep], rows[keep]
            if not len(rows):
                break
        return out

    check_greedy_decode(greedy_decode)
