#include "store/file_texts.hpp"

#include <utility>

namespace edgehdf5::store {
namespace {

class FileTexts final : public TextSource {
 public:
  FileTexts(h5::Object dataset, std::size_t rows) : dataset_(std::move(dataset)), rows_(rows) {}
  std::size_t rows() const override { return rows_; }
  std::vector<std::string> read(std::size_t first, std::size_t count) const override {
    return h5::read_string_rows(dataset_, first, count);  // takes the library lock
  }

 private:
  h5::Object dataset_;  // closed (with the file, HDF5 closing weakly) by its destructor
  std::size_t rows_;
};

}  // namespace

std::shared_ptr<const TextSource> file_texts(h5::Object dataset, std::size_t rows) {
  return std::make_shared<const FileTexts>(std::move(dataset), rows);
}

}  // namespace edgehdf5::store
