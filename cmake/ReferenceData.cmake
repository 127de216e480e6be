# Compiles the reference tables of data/ into the library (lib/src/detail/reference_data.cpp.in),
# so that `moodboost compare` needs no data files at run time. CMake re-configures when a table
# changes. Included from lib/CMakeLists.txt after the moodboost target exists.
set(_moodboost_reference_systems ${PROJECT_SOURCE_DIR}/data/reference_systems.tsv)
set(_moodboost_reference_per_tag ${PROJECT_SOURCE_DIR}/data/reference_per_tag.tsv)
file(READ ${_moodboost_reference_systems} MOODBOOST_REFERENCE_SYSTEMS_TSV)
file(READ ${_moodboost_reference_per_tag} MOODBOOST_REFERENCE_PER_TAG_TSV)
foreach(_table IN ITEMS MOODBOOST_REFERENCE_SYSTEMS_TSV MOODBOOST_REFERENCE_PER_TAG_TSV)
  string(FIND "${${_table}}" ")moodboost_table" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${_table}: the text ')moodboost_table' would end the C++ raw string")
  endif()
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${_moodboost_reference_systems} ${_moodboost_reference_per_tag})
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/src/detail/reference_data.cpp.in
               ${CMAKE_CURRENT_BINARY_DIR}/generated/reference_data.cpp @ONLY)
target_sources(moodboost PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated/reference_data.cpp)
