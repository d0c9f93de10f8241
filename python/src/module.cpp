// edgehdf5._edgehdf5: the compiled half of the Python package (python/edgehdf5/ is the rest).

#include "common.hpp"
#include "memory_binding.hpp"

namespace edgehdf5::python {
void register_async(py::module_& module);  // async_binding.cpp
}

PYBIND11_MODULE(_edgehdf5, module) {
  namespace ep = edgehdf5::python;
  module.doc() = "edgehdf5: an AI agent's memory in one HDF5 file (C++ extension).";
  module.attr("__version__") = edgehdf5::kVersion;
  ep::register_errors(module);
  ep::register_records(module);
  ep::register_memory(module);
  ep::register_async(module);
  module.def("embed_text", [](const std::string& text, std::size_t dim) {
    auto embedder = edgehdf5::HashEmbedder(dim);
    std::vector<float> v = embedder.embed(text);
    return pybind11::array_t<float>(static_cast<pybind11::ssize_t>(v.size()), v.data());
  }, pybind11::arg("text"), pybind11::arg("dim") = 384,
     "The built-in embedder's (hash:dim) vector of a text, as a float32 array.");
  module.def("keyword_terms", [](const std::string& text, const std::string& tokenizer) {
    return edgehdf5::tokenize(text, ep::tokenizer_argument(tokenizer));
  }, pybind11::arg("text"), pybind11::arg("tokenizer") = "porter",
     "The terms keyword search (BM25) makes of a text with this tokenizer ('porter' or "
     "'unicode61'), in order: what a query must share with a memory to match it.");
  module.def("verify", [](const std::filesystem::path& path) {
    pybind11::gil_scoped_release nogil;
    return edgehdf5::verify_file(path);
  }, pybind11::arg("path"),
     "Deep consistency check of a memory file and its log, without changing them (what "
     "`edgehdf5 verify` runs): the problems found, [] when the file is sound. A file that "
     "cannot be read at all is one problem, not an exception.");
}
