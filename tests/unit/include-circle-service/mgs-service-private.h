/* what every room shares: not a circle */
#pragma once
