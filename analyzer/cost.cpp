// Placeholder until the analyzer lands (issue 3).
#include "analyzer/cost.hpp"
