// Entry points of the fuzzing harness: each takes arbitrary bytes and runs them through one
// reader and everything `tbprof` does with what it reads. They are linked both into the libFuzzer
// programs (fuzz_main.cc, built with TBPROF_FUZZ=ON) and into a unit test that replays the seed
// corpus and every input that ever crashed (tests/fuzz/regressions/<target>/).
#ifndef TBPROF_TESTS_FUZZ_FUZZ_TARGETS_H_
#define TBPROF_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <string>
#include <string_view>
#include <vector>

namespace tbprof::fuzz {

// An event file (TFRecord framing of tensorflow.Event): the file reader, the in-memory record
// parser, the event file summary, the validator, graph selection, GraphDef conversion, step-stat
// timings and the DOT writer.
void FuzzEventFile(std::string_view data);

// An .xplane.pb file: the XSpace reader, the validator, the summary (text and JSON) and the
// Chrome trace conversion.
void FuzzXSpace(std::string_view data);

// A serialized GraphDef: conversion to a graph and the DOT writer with and without clusters;
// the same bytes as RunMetadata for step-stat timings.
void FuzzGraphDef(std::string_view data);

// The command line on a log directory holding the bytes: the first byte picks the command
// (summary, summary --json, validate, chrome, dot) and whether the rest is an event file or a
// profile.
void FuzzCli(std::string_view data);

struct FuzzTarget {
  const char* name;
  void (*run)(std::string_view data);
};

// Every target above, by name ("event_file", "xspace", "graphdef", "cli").
const std::vector<FuzzTarget>& FuzzTargets();

}  // namespace tbprof::fuzz

#endif  // TBPROF_TESTS_FUZZ_FUZZ_TARGETS_H_
